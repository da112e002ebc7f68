package io.kcb.keycloak;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Properties;

/**
 * The extension's version (the Maven project version, equal to the project's package version),
 * reported by every factory in the admin server info so that realm-sync can check it.
 */
public final class ExtensionVersion {

    public static final String VERSION = load();

    private ExtensionVersion() {
    }

    /** What {@code ServerInfoAwareProviderFactory.getOperationalInfo()} returns. */
    public static Map<String, String> operationalInfo() {
        return Map.of("version", VERSION);
    }

    private static String load() {
        try (InputStream in = ExtensionVersion.class.getResourceAsStream("extension.properties")) {
            if (in == null) {
                throw new IllegalStateException("extension.properties is missing from the jar");
            }
            Properties properties = new Properties();
            properties.load(in);
            return properties.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
