package io.kcb.keycloak.pod;

/**
 * When a token may carry a pod's identity: only the token of a {@code client_credentials} grant of the
 * very client that authenticated with the pod's assertion in this request, issued to that client's own
 * service account. Anything else (standard token exchange, which copies the requesting client's
 * authentication onto another session; refresh; another client in the same request) gets nothing.
 */
public final class EmissionRule {

    public static final String CLIENT_CREDENTIALS = "client_credentials";

    private EmissionRule() {
    }

    /**
     * @param grantType                 the grant of the token being built
     * @param assertingClientId         internal id of the client that authenticated with the pod's assertion
     * @param tokenClientId             internal id of the client the token is issued to
     * @param serviceAccountClientLink  internal id of the client whose service account the token's user is (null for a person)
     */
    public static boolean emits(String grantType, String assertingClientId, String tokenClientId, String serviceAccountClientLink) {
        return CLIENT_CREDENTIALS.equals(grantType)
                && assertingClientId != null
                && assertingClientId.equals(tokenClientId)
                && assertingClientId.equals(serviceAccountClientLink);
    }
}
