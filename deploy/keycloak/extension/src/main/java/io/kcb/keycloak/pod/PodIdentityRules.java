package io.kcb.keycloak.pod;

import io.kcb.keycloak.tags.SessionTagLimits;
import java.util.Map;

/**
 * Reads a pod's identity from the claims of a Kubernetes service-account token that Keycloak already
 * validated (signature, issuer, audience, lifetime), and applies this extension's own rules.
 *
 * <p>Claim layout: <a href="https://kubernetes.io/docs/reference/access-authn-authz/service-accounts-admin/#bound-service-account-tokens">bound
 * service-account tokens</a> ({@code kubernetes.io.namespace}, {@code .serviceaccount.name/uid},
 * {@code .pod.name/uid}, {@code .node.name/uid}).
 */
public final class PodIdentityRules {

    /** The claim that carries the Kubernetes identity. */
    public static final String KUBERNETES_CLAIM = "kubernetes.io";

    private static final String SUBJECT_PREFIX = "system:serviceaccount:";

    private PodIdentityRules() {
    }

    /**
     * @param subject           the token's {@code sub}
     * @param kubernetesClaim   the token's {@code kubernetes.io} claim (a JSON object as parsed)
     * @param clusterName       the identity provider's configured cluster name
     * @param requirePodBinding refuse a token that is not bound to a pod
     * @throws AssertionRefused when a rule fails; the message names the rule
     */
    public static PodIdentity read(String subject, Object kubernetesClaim, String clusterName, boolean requirePodBinding)
            throws AssertionRefused {
        if (!(kubernetesClaim instanceof Map<?, ?> claim)) {
            throw new AssertionRefused("the assertion has no kubernetes.io claim object");
        }
        String namespace = requiredString(claim, "namespace", "kubernetes.io.namespace");
        Map<?, ?> serviceAccount = object(claim, "serviceaccount", "kubernetes.io.serviceaccount");
        if (serviceAccount == null) {
            throw new AssertionRefused("the assertion has no kubernetes.io.serviceaccount");
        }
        String serviceAccountName = requiredString(serviceAccount, "name", "kubernetes.io.serviceaccount.name");
        String serviceAccountUid = optionalString(serviceAccount, "uid", "kubernetes.io.serviceaccount.uid");

        String expectedSubject = SUBJECT_PREFIX + namespace + ":" + serviceAccountName;
        if (!expectedSubject.equals(subject)) {
            throw new AssertionRefused("sub is not " + expectedSubject + " (the namespace and service account of its kubernetes.io claim)");
        }

        Map<?, ?> pod = object(claim, "pod", "kubernetes.io.pod");
        String podName = pod == null ? null : requiredString(pod, "name", "kubernetes.io.pod.name");
        String podUid = pod == null ? null : requiredString(pod, "uid", "kubernetes.io.pod.uid");
        if (requirePodBinding && pod == null) {
            throw new AssertionRefused("the assertion is not bound to a pod (kubernetes.io.pod is absent) and requirePodBinding is on");
        }
        Map<?, ?> node = object(claim, "node", "kubernetes.io.node");
        String nodeName = node == null ? null : optionalString(node, "name", "kubernetes.io.node.name");

        PodIdentity identity = new PodIdentity(namespace, serviceAccountName, serviceAccountUid, podName, podUid, nodeName, clusterName);
        checkTagValue("kubernetes.io.namespace", identity.namespace());
        checkTagValue("kubernetes.io.serviceaccount.name", identity.serviceAccountName());
        checkTagValue("kubernetes.io.pod.name", identity.podName());
        checkTagValue("kubernetes.io.pod.uid", identity.podUid());
        return identity;
    }

    private static void checkTagValue(String path, String value) throws AssertionRefused {
        if (value == null) {
            return;
        }
        String problem = SessionTagLimits.valueProblem(value);
        if (problem != null) {
            throw new AssertionRefused(path + " cannot be an AWS session tag value: " + problem);
        }
    }

    private static Map<?, ?> object(Map<?, ?> parent, String key, String path) throws AssertionRefused {
        Object value = parent.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Map<?, ?> map)) {
            throw new AssertionRefused(path + " is not an object");
        }
        return map;
    }

    private static String requiredString(Map<?, ?> parent, String key, String path) throws AssertionRefused {
        String value = optionalString(parent, key, path);
        if (value == null || value.isEmpty()) {
            throw new AssertionRefused("the assertion has no " + path);
        }
        return value;
    }

    private static String optionalString(Map<?, ?> parent, String key, String path) throws AssertionRefused {
        Object value = parent.get(key);
        if (value == null) {
            return null;
        }
        if (!(value instanceof String string)) {
            throw new AssertionRefused(path + " is not a string");
        }
        return string;
    }
}
