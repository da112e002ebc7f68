package io.kcb.keycloak.mapper;

import io.kcb.keycloak.pod.PodIdentity;
import java.util.LinkedHashMap;
import java.util.Map;

/** The object claim {@code kubernetes}: the pod's identity for relying parties other than AWS. */
public final class PlainClaim {

    private PlainClaim() {
    }

    /** {@code {namespace, service_account, pod_name, pod_uid, cluster_name}}; pod fields only for a pod-bound token. */
    public static Map<String, String> of(PodIdentity pod) {
        Map<String, String> claim = new LinkedHashMap<>();
        claim.put("namespace", pod.namespace());
        claim.put("service_account", pod.serviceAccountName());
        if (pod.podName() != null) {
            claim.put("pod_name", pod.podName());
        }
        if (pod.podUid() != null) {
            claim.put("pod_uid", pod.podUid());
        }
        claim.put("cluster_name", pod.clusterName());
        return claim;
    }
}
