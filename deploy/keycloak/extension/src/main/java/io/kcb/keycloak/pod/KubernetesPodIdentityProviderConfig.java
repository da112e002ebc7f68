package io.kcb.keycloak.pod;

import io.kcb.keycloak.tags.SessionTagLimits;
import org.keycloak.broker.kubernetes.KubernetesIdentityProviderConfig;
import org.keycloak.models.IdentityProviderModel;
import org.keycloak.models.RealmModel;

/** Keycloak's Kubernetes provider config plus {@code clusterName} and {@code requirePodBinding}. */
public class KubernetesPodIdentityProviderConfig extends KubernetesIdentityProviderConfig {

    public static final String CLUSTER_NAME = "clusterName";
    public static final String REQUIRE_POD_BINDING = "requirePodBinding";

    public KubernetesPodIdentityProviderConfig() {
    }

    public KubernetesPodIdentityProviderConfig(IdentityProviderModel model) {
        super(model);
    }

    public String getClusterName() {
        return getConfig().get(CLUSTER_NAME);
    }

    public boolean isRequirePodBinding() {
        return Boolean.parseBoolean(getConfig().get(REQUIRE_POD_BINDING));
    }

    /** Called by Keycloak when the provider is created or updated through the admin API. */
    @Override
    public void validate(RealmModel realm) {
        super.validate(realm);
        String problem = configProblem(getClusterName(), getConfig().get(REQUIRE_POD_BINDING));
        if (problem != null) {
            throw new IllegalArgumentException(problem);
        }
    }

    /** Why this extension's keys are invalid, or null. */
    static String configProblem(String clusterName, String requirePodBinding) {
        if (clusterName == null || clusterName.isEmpty()) {
            return CLUSTER_NAME + " is required (the cluster's name, reported as a session tag)";
        }
        String valueProblem = SessionTagLimits.valueProblem(clusterName);
        if (valueProblem != null) {
            return CLUSTER_NAME + " cannot be an AWS session tag value: " + valueProblem;
        }
        if (requirePodBinding != null && !requirePodBinding.equals("true") && !requirePodBinding.equals("false")) {
            return REQUIRE_POD_BINDING + " must be \"true\" or \"false\"";
        }
        return null;
    }
}
