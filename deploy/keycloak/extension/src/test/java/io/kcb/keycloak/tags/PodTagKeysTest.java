package io.kcb.keycloak.tags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.kcb.keycloak.pod.PodIdentity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PodTagKeysTest {

    private static final PodIdentity POD = new PodIdentity("payments", "api", "sa-uid", "api-1", "pod-uid", "node-a", "eu-1");
    private static final PodIdentity PODLESS = new PodIdentity("payments", "api", "sa-uid", null, null, null, "eu-1");

    @Test
    void defaultsGiveTheFiveKubernetesTags() throws SessionTagError {
        PodTagKeys keys = PodTagKeys.parse(Map.of());
        assertEquals(List.of("kubernetes-namespace", "kubernetes-service-account", "kubernetes-pod-name", "kubernetes-pod-uid", "kubernetes-cluster-name"),
                List.copyOf(keys.tagsOf(POD).keySet()));
        assertEquals(List.of("payments", "api", "api-1", "pod-uid", "eu-1"), List.copyOf(keys.tagsOf(POD).values()));
        assertEquals(List.of(), keys.transitive());
    }

    @Test
    void aPodlessTokenHasNoPodTags() throws SessionTagError {
        assertEquals(Map.of("kubernetes-namespace", "payments", "kubernetes-service-account", "api", "kubernetes-cluster-name", "eu-1"),
                PodTagKeys.parse(Map.of()).tagsOf(PODLESS));
    }

    @Test
    void keysAreConfigurableAndAnEmptyKeyLeavesTheValueOut() throws SessionTagError {
        PodTagKeys keys = PodTagKeys.parse(Map.of(PodTagKeys.NAMESPACE, "ns", PodTagKeys.POD_UID, "", PodTagKeys.TRANSITIVE, " ns , kubernetes-cluster-name,"));
        assertEquals(Map.of("ns", "payments", "kubernetes-service-account", "api", "kubernetes-pod-name", "api-1", "kubernetes-cluster-name", "eu-1"),
                keys.tagsOf(POD));
        assertEquals(List.of("ns", "kubernetes-cluster-name"), keys.transitive());
    }

    @Test
    void transitiveKeysTakeTheSpellingOfTheTagKeyAndDropAbsentValues() throws SessionTagError {
        PodTagKeys keys = PodTagKeys.parse(Map.of(PodTagKeys.TRANSITIVE, "KUBERNETES-NAMESPACE,kubernetes-pod-name"));
        assertEquals(List.of("kubernetes-namespace", "kubernetes-pod-name"), keys.transitive());
        assertEquals(List.of("kubernetes-namespace"), keys.transitiveOf(keys.tagsOf(PODLESS)));
    }

    @Test
    void namesEveryBadKey() {
        SessionTagError error = assertThrows(SessionTagError.class, () -> PodTagKeys.parse(Map.of(
                PodTagKeys.NAMESPACE, "bad#key",
                PodTagKeys.POD_NAME, "Kubernetes-Service-Account",
                PodTagKeys.POD_UID, "k".repeat(129),
                PodTagKeys.TRANSITIVE, "team")));
        assertEquals("tag.namespace: tag key \"bad#key\" has a character AWS does not allow in tags (letters, digits, spaces and _ . : / = + - @); "
                + "tag.pod-name: tag key \"Kubernetes-Service-Account\" is used twice (tag keys are case-insensitive); "
                + "tag.pod-uid: tag key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk…\" is longer than 128 characters; "
                + "transitive.tag.keys: \"team\" is not one of the tag keys of this mapper", error.getMessage());
    }
}
