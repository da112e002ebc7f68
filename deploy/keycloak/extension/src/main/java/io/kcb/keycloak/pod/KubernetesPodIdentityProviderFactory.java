package io.kcb.keycloak.pod;

import io.kcb.keycloak.ExtensionVersion;
import java.util.List;
import java.util.Map;
import org.keycloak.broker.kubernetes.KubernetesIdentityProviderFactory;
import org.keycloak.models.IdentityProviderModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.provider.ServerInfoAwareProviderFactory;

/**
 * Registers {@code kubernetes-pod}. Keycloak classes an identity provider by the return type of its
 * factory's {@code create(KeycloakSession, IdentityProviderModel)}: returning a
 * {@code ClientAssertionIdentityProvider} makes this a client-assertion provider, found by {@code iss}.
 * Enabled with Keycloak's {@code kubernetes-service-accounts} feature, like the provider it extends.
 */
public class KubernetesPodIdentityProviderFactory extends KubernetesIdentityProviderFactory implements ServerInfoAwareProviderFactory {

    public static final String PROVIDER_ID = "kubernetes-pod";

    @Override
    public String getId() {
        return PROVIDER_ID;
    }

    @Override
    public String getName() {
        return "Kubernetes (per-pod identity)";
    }

    @Override
    public KubernetesPodIdentityProvider create(KeycloakSession session, IdentityProviderModel model) {
        return new KubernetesPodIdentityProvider(session, new KubernetesPodIdentityProviderConfig(model));
    }

    @Override
    public IdentityProviderModel createConfig() {
        return new KubernetesPodIdentityProviderConfig();
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return ProviderConfigurationBuilder.create()
                .property().name(KubernetesPodIdentityProviderConfig.CLUSTER_NAME).label("Cluster name")
                .helpText("The cluster's name, reported as the kubernetes-cluster-name session tag.")
                .type(ProviderConfigProperty.STRING_TYPE).required(true).add()
                .property().name(KubernetesPodIdentityProviderConfig.REQUIRE_POD_BINDING).label("Require pod binding")
                .helpText("Refuse a service-account token that is not bound to a pod.")
                .type(ProviderConfigProperty.BOOLEAN_TYPE).defaultValue("false").add()
                .build();
    }

    @Override
    public Map<String, String> getOperationalInfo() {
        return ExtensionVersion.operationalInfo();
    }
}
