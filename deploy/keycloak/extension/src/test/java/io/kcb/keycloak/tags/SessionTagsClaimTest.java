package io.kcb.keycloak.tags;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SessionTagsClaimTest {

    private static final Map<String, String> POD_TAGS = orderedTags("kubernetes-namespace", "payments", "kubernetes-pod-name", "api-1");

    private static Map<String, String> orderedTags(String... keyValues) {
        Map<String, String> tags = new LinkedHashMap<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            tags.put(keyValues[i], keyValues[i + 1]);
        }
        return tags;
    }

    private static Map<String, Object> manyTags(int count) {
        Map<String, Object> tags = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            tags.put("t" + i, List.of("v"));
        }
        return Map.of("principal_tags", tags);
    }

    @Test
    void createsTheClaimWhenNoMapperWroteIt() throws SessionTagError {
        assertEquals(Map.of("principal_tags", Map.of("kubernetes-namespace", List.of("payments"), "kubernetes-pod-name", List.of("api-1")),
                        "transitive_tag_keys", List.of("kubernetes-namespace")),
                SessionTagsClaim.merge(null, POD_TAGS, List.of("kubernetes-namespace")));
    }

    @Test
    void leavesOutAnEmptyTransitiveList() throws SessionTagError {
        assertEquals(Map.of("principal_tags", Map.of("kubernetes-namespace", List.of("payments"), "kubernetes-pod-name", List.of("api-1"))),
                SessionTagsClaim.merge(null, POD_TAGS, List.of()));
    }

    @Test
    void mergesIntoTheExistingClaimKeepingItsTagsAndTransitiveKeys() throws SessionTagError {
        Map<String, Object> existing = Map.of(
                "principal_tags", Map.of("team", List.of("payments-team"), "env", "prod"),
                "transitive_tag_keys", List.of("team"));
        Map<String, Object> merged = SessionTagsClaim.merge(existing, POD_TAGS, List.of("kubernetes-namespace"));
        assertEquals(Map.of("team", List.of("payments-team"), "env", List.of("prod"),
                "kubernetes-namespace", List.of("payments"), "kubernetes-pod-name", List.of("api-1")), merged.get("principal_tags"));
        assertEquals(List.of("team", "kubernetes-namespace"), merged.get("transitive_tag_keys"));
    }

    @Test
    void refusesAKeyAnotherMapperAlreadySet() {
        Map<String, Object> existing = Map.of("principal_tags", Map.of("Kubernetes-Namespace", List.of("spoofed")));
        SessionTagError error = assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(existing, POD_TAGS, List.of()));
        assertEquals("tag key \"kubernetes-namespace\" is already set in https://aws.amazon.com/tags by another mapper (tag keys are case-insensitive)",
                error.getMessage());
    }

    @Test
    void fiftyTagsInTotalFitFiftyOneDoNot() throws SessionTagError {
        assertEquals(50, ((Map<?, ?>) SessionTagsClaim.merge(manyTags(48), POD_TAGS, List.of()).get("principal_tags")).size());
        SessionTagError error = assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(manyTags(49), POD_TAGS, List.of()));
        assertEquals("51 session tags, more than the 50 AWS allows", error.getMessage());
    }

    @Test
    void checksTheExistingTagsToo() {
        Map<String, Object> longValue = Map.of("principal_tags", Map.of("team", List.of("x".repeat(257))));
        assertEquals("tag \"team\": a value of 257 characters is longer than 256",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(longValue, POD_TAGS, List.of())).getMessage());
        Map<String, Object> twoValues = Map.of("principal_tags", Map.of("team", List.of("a", "b")));
        assertEquals("tag \"team\" has 2 values; AWS takes exactly one",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(twoValues, POD_TAGS, List.of())).getMessage());
        Map<String, Object> strayTransitive = Map.of("principal_tags", Map.of("team", List.of("a")), "transitive_tag_keys", List.of("cost"));
        assertEquals("transitive tag key \"cost\" is not one of the session tags",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(strayTransitive, POD_TAGS, List.of())).getMessage());
    }

    @Test
    void refusesAMalformedExistingClaim() {
        assertEquals("https://aws.amazon.com/tags is not a JSON object",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge("tags", POD_TAGS, List.of())).getMessage());
        assertEquals("https://aws.amazon.com/tags principal_tags is not a JSON object",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(Map.of("principal_tags", List.of()), POD_TAGS, List.of())).getMessage());
        assertEquals("tag \"team\" in https://aws.amazon.com/tags is neither a string nor an array of strings",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(Map.of("principal_tags", Map.of("team", 3)), POD_TAGS, List.of())).getMessage());
        assertEquals("https://aws.amazon.com/tags transitive_tag_keys is not an array of strings",
                assertThrows(SessionTagError.class, () -> SessionTagsClaim.merge(Map.of("transitive_tag_keys", "team"), POD_TAGS, List.of())).getMessage());
    }
}
