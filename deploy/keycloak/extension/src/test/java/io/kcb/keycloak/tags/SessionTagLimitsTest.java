package io.kcb.keycloak.tags;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SessionTagLimitsTest {

    @ParameterizedTest
    @ValueSource(strings = {"kubernetes-namespace", "a", "team:cost_center/x=y+z@w.v", "Équipe 1", "名前"})
    void acceptsKeysOfTheAllowedCharset(String key) {
        assertNull(SessionTagLimits.keyProblem(key));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a,b", "a#b", "a*", "tab\tkey", "quote\"", "semi;colon", "new\nline"})
    void refusesKeysOutsideTheCharsetOrEmpty(String key) {
        assertNotNull(SessionTagLimits.keyProblem(key));
    }

    @Test
    void keyLengthIsAtMost128Characters() {
        assertNull(SessionTagLimits.keyProblem("k".repeat(128)));
        assertNotNull(SessionTagLimits.keyProblem("k".repeat(129)));
        // characters, not UTF-16 units: 128 supplementary-plane letters still fit
        assertNull(SessionTagLimits.keyProblem("𝒜".repeat(128)));
    }

    @Test
    void valueLengthIsAtMost256CharactersAndMayBeEmpty() {
        assertNull(SessionTagLimits.valueProblem(""));
        assertNull(SessionTagLimits.valueProblem("v".repeat(256)));
        assertNotNull(SessionTagLimits.valueProblem("v".repeat(257)));
        assertNotNull(SessionTagLimits.valueProblem("a|b"));
    }
}
