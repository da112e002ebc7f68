package io.kcb.keycloak;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ExtensionVersionTest {

    @Test
    void reportsTheMavenProjectVersion() {
        assertTrue(ExtensionVersion.VERSION.matches("\\d+\\.\\d+\\.\\d+(-[\\w.]+)?"), ExtensionVersion.VERSION);
        assertEquals(Map.of("version", ExtensionVersion.VERSION), ExtensionVersion.operationalInfo());
    }
}
