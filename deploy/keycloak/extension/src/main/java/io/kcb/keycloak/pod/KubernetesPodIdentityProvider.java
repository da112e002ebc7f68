package io.kcb.keycloak.pod;

import org.jboss.logging.Logger;
import org.keycloak.authentication.ClientAuthenticationFlowContext;
import org.keycloak.authentication.authenticators.client.ClientAssertionState;
import org.keycloak.broker.kubernetes.KubernetesIdentityProvider;
import org.keycloak.events.Details;
import org.keycloak.models.KeycloakSession;
import org.keycloak.representations.JsonWebToken;

/**
 * Keycloak's Kubernetes client-assertion provider, which also keeps the validated assertion's pod
 * identity for the rest of the request (see {@link AuthenticatedPod}) and refuses what
 * {@link PodIdentityRules} refuses.
 */
public class KubernetesPodIdentityProvider extends KubernetesIdentityProvider {

    private static final Logger LOG = Logger.getLogger(KubernetesPodIdentityProvider.class);

    public static final String EVENT_NAMESPACE = "kubernetes_namespace";
    public static final String EVENT_POD = "kubernetes_pod";
    public static final String EVENT_POD_UID = "kubernetes_pod_uid";

    private final KeycloakSession session;
    private final KubernetesPodIdentityProviderConfig config;

    public KubernetesPodIdentityProvider(KeycloakSession session, KubernetesPodIdentityProviderConfig config) {
        super(session, config);
        this.session = session;
        this.config = config;
    }

    @Override
    public boolean verifyClientAssertion(ClientAuthenticationFlowContext context) throws Exception {
        if (!super.verifyClientAssertion(context)) {
            return false;
        }
        // The assertion Keycloak has just validated, parsed once per request; never the raw form parameter.
        ClientAssertionState state = context.getState(ClientAssertionState.class, ClientAssertionState.supplier());
        JsonWebToken token = state.getToken();
        PodIdentity pod;
        try {
            pod = PodIdentityRules.read(token.getSubject(), token.getOtherClaims().get(PodIdentityRules.KUBERNETES_CLAIM),
                    config.getClusterName(), config.isRequirePodBinding());
        } catch (AssertionRefused refused) {
            LOG.warnf("Kubernetes assertion refused by identity provider %s (realm %s): %s",
                    config.getAlias(), context.getRealm().getName(), refused.getMessage());
            context.getEvent().detail(Details.REASON, refused.getMessage());
            return false;
        }
        if (state.getClient() == null) {
            return false;
        }
        session.setAttribute(AuthenticatedPod.SESSION_ATTRIBUTE, new AuthenticatedPod(state.getClient().getId(), pod));
        context.getEvent().detail(EVENT_NAMESPACE, pod.namespace());
        if (pod.boundToPod()) {
            context.getEvent().detail(EVENT_POD, pod.podName()).detail(EVENT_POD_UID, pod.podUid());
        }
        return true;
    }

    @Override
    public KubernetesPodIdentityProviderConfig getConfig() {
        return config;
    }
}
