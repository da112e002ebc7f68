package io.kcb.keycloak.tags;

import io.kcb.keycloak.pod.PodIdentity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The mapper's tag configuration: one session-tag key per pod value (null = left out) and the keys
 * that are transitive. Parsed and checked once from the mapper's config map.
 */
public record PodTagKeys(String namespace, String serviceAccount, String podName, String podUid, String clusterName,
                         List<String> transitive) {

    public static final String NAMESPACE = "tag.namespace";
    public static final String SERVICE_ACCOUNT = "tag.service-account";
    public static final String POD_NAME = "tag.pod-name";
    public static final String POD_UID = "tag.pod-uid";
    public static final String CLUSTER_NAME = "tag.cluster-name";
    public static final String TRANSITIVE = "transitive.tag.keys";

    public static final Map<String, String> DEFAULTS = Map.of(
            NAMESPACE, "kubernetes-namespace",
            SERVICE_ACCOUNT, "kubernetes-service-account",
            POD_NAME, "kubernetes-pod-name",
            POD_UID, "kubernetes-pod-uid",
            CLUSTER_NAME, "kubernetes-cluster-name");

    public PodTagKeys {
        transitive = List.copyOf(transitive);
    }

    /**
     * Reads the config: an absent key takes its default, an empty one is left out.
     *
     * @throws SessionTagError naming every bad key
     */
    public static PodTagKeys parse(Map<String, String> config) throws SessionTagError {
        List<String> problems = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        String[] keys = new String[5];
        String[] names = {NAMESPACE, SERVICE_ACCOUNT, POD_NAME, POD_UID, CLUSTER_NAME};
        for (int i = 0; i < names.length; i++) {
            String value = config.containsKey(names[i]) ? config.get(names[i]) : DEFAULTS.get(names[i]);
            if (value == null || value.isEmpty()) {
                continue;
            }
            String problem = SessionTagLimits.keyProblem(value);
            if (problem != null) {
                problems.add(names[i] + ": " + problem);
            } else if (seen.putIfAbsent(value.toLowerCase(Locale.ROOT), value) != null) {
                problems.add(names[i] + ": tag key \"" + value + "\" is used twice (tag keys are case-insensitive)");
            } else {
                keys[i] = value;
            }
        }
        List<String> transitive = new ArrayList<>();
        String transitiveConfig = config.getOrDefault(TRANSITIVE, "");
        for (String raw : transitiveConfig == null ? new String[0] : transitiveConfig.split(",")) {
            String key = raw.trim();
            if (key.isEmpty()) {
                continue;
            }
            String tagKey = seen.get(key.toLowerCase(Locale.ROOT));
            if (tagKey == null) {
                problems.add(TRANSITIVE + ": \"" + key + "\" is not one of the tag keys of this mapper");
            } else if (!transitive.contains(tagKey)) {
                transitive.add(tagKey);
            }
        }
        if (!problems.isEmpty()) {
            throw new SessionTagError(String.join("; ", problems));
        }
        return new PodTagKeys(keys[0], keys[1], keys[2], keys[3], keys[4], transitive);
    }

    /** The session tags of {@code pod}, in a stable order; values a pod-less token lacks are left out. */
    public Map<String, String> tagsOf(PodIdentity pod) {
        Map<String, String> tags = new LinkedHashMap<>();
        put(tags, namespace, pod.namespace());
        put(tags, serviceAccount, pod.serviceAccountName());
        put(tags, podName, pod.podName());
        put(tags, podUid, pod.podUid());
        put(tags, clusterName, pod.clusterName());
        return tags;
    }

    /** The transitive keys among {@code tags} (a transitive key whose value is absent is left out too). */
    public List<String> transitiveOf(Map<String, String> tags) {
        return transitive.stream().filter(tags::containsKey).toList();
    }

    private static void put(Map<String, String> tags, String key, String value) {
        if (key != null && value != null) {
            tags.put(key, value);
        }
    }
}
