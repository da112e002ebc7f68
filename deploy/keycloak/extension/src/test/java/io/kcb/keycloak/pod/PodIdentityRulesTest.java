package io.kcb.keycloak.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PodIdentityRulesTest {

    private static final String SUB = "system:serviceaccount:payments:api";

    static Map<String, Object> claim(boolean withPod) {
        Map<String, Object> claim = new HashMap<>();
        claim.put("namespace", "payments");
        claim.put("serviceaccount", Map.of("name", "api", "uid", "8e1c1c2e-0000-4000-8000-000000000001"));
        if (withPod) {
            claim.put("pod", Map.of("name", "api-7d9f8-x2x", "uid", "2f0c7a4e-0000-4000-8000-000000000002"));
            claim.put("node", Map.of("name", "node-a", "uid", "0d6f0b1e-0000-4000-8000-000000000003"));
        }
        return claim;
    }

    @Test
    void readsEveryValueOfAPodBoundToken() throws AssertionRefused {
        PodIdentity pod = PodIdentityRules.read(SUB, claim(true), "eu-1", true);
        assertEquals(new PodIdentity("payments", "api", "8e1c1c2e-0000-4000-8000-000000000001", "api-7d9f8-x2x",
                "2f0c7a4e-0000-4000-8000-000000000002", "node-a", "eu-1"), pod);
        assertTrue(pod.boundToPod());
    }

    @Test
    void acceptsAPodlessTokenUnlessPodBindingIsRequired() throws AssertionRefused {
        PodIdentity pod = PodIdentityRules.read(SUB, claim(false), "eu-1", false);
        assertFalse(pod.boundToPod());
        assertNull(pod.podName());
        AssertionRefused refused = assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, claim(false), "eu-1", true));
        assertTrue(refused.getMessage().contains("requirePodBinding"), refused.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "system:serviceaccount:payments:other",
        "system:serviceaccount:other:api",
        "system:serviceaccount:payments:api:extra",
        "payments:api",
        "",
    })
    void refusesASubjectThatIsNotItsOwnServiceAccount(String subject) {
        AssertionRefused refused = assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(subject, claim(true), "eu-1", false));
        assertEquals("sub is not system:serviceaccount:payments:api (the namespace and service account of its kubernetes.io claim)", refused.getMessage());
    }

    @Test
    void refusesANullSubject() {
        assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(null, claim(true), "eu-1", false));
    }

    @Test
    void refusesMissingOrMistypedClaims() {
        assertEquals("the assertion has no kubernetes.io claim object",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, null, "eu-1", false)).getMessage());
        assertEquals("the assertion has no kubernetes.io claim object",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, "payments", "eu-1", false)).getMessage());

        Map<String, Object> noNamespace = claim(true);
        noNamespace.remove("namespace");
        assertEquals("the assertion has no kubernetes.io.namespace",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, noNamespace, "eu-1", false)).getMessage());

        Map<String, Object> numericName = claim(true);
        numericName.put("serviceaccount", Map.of("name", 7));
        assertEquals("kubernetes.io.serviceaccount.name is not a string",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, numericName, "eu-1", false)).getMessage());

        Map<String, Object> podWithoutUid = claim(true);
        podWithoutUid.put("pod", Map.of("name", "api-1"));
        assertEquals("the assertion has no kubernetes.io.pod.uid",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, podWithoutUid, "eu-1", false)).getMessage());

        Map<String, Object> podNotObject = claim(true);
        podNotObject.put("pod", "api-1");
        assertEquals("kubernetes.io.pod is not an object",
                assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, podNotObject, "eu-1", false)).getMessage());
    }

    @Test
    void refusesAValueThatCannotBeASessionTag() {
        Map<String, Object> longPod = claim(true);
        longPod.put("pod", Map.of("name", "p".repeat(257), "uid", "u"));
        AssertionRefused tooLong = assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, longPod, "eu-1", false));
        assertTrue(tooLong.getMessage().startsWith("kubernetes.io.pod.name cannot be an AWS session tag value"), tooLong.getMessage());

        Map<String, Object> badCharset = claim(true);
        badCharset.put("pod", Map.of("name", "api#1", "uid", "u"));
        AssertionRefused charset = assertThrows(AssertionRefused.class, () -> PodIdentityRules.read(SUB, badCharset, "eu-1", false));
        assertTrue(charset.getMessage().contains("does not allow"), charset.getMessage());
    }
}
