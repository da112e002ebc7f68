package io.kcb.keycloak.pod;

import java.util.Objects;

/**
 * What the identity provider keeps for the rest of one request: the pod, and the Keycloak client
 * (internal id) that authenticated with its assertion. The mapper emits only for that client.
 */
public record AuthenticatedPod(String clientId, PodIdentity pod) {

    /** The {@code KeycloakSession} attribute (request-scoped) that holds it. */
    public static final String SESSION_ATTRIBUTE = "io.kcb.keycloak.authenticated-pod";

    public AuthenticatedPod {
        Objects.requireNonNull(clientId, "clientId");
        Objects.requireNonNull(pod, "pod");
    }
}
