package io.kcb.keycloak.pod;

import java.util.Objects;

/**
 * The identity of one workload pod, taken from a Kubernetes service-account assertion that Keycloak
 * validated, plus the cluster name from the identity provider's configuration (never from the token).
 * {@code podName}, {@code podUid} and {@code nodeName} are null for a token not bound to a pod.
 */
public record PodIdentity(
        String namespace,
        String serviceAccountName,
        String serviceAccountUid,
        String podName,
        String podUid,
        String nodeName,
        String clusterName) {

    public PodIdentity {
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(serviceAccountName, "serviceAccountName");
        Objects.requireNonNull(clusterName, "clusterName");
    }

    /** Whether the token was bound to a pod (projected service-account token of a running pod). */
    public boolean boundToPod() {
        return podName != null && podUid != null;
    }
}
