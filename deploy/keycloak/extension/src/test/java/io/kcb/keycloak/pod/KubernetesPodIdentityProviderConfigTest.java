package io.kcb.keycloak.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class KubernetesPodIdentityProviderConfigTest {

    @Test
    void acceptsAClusterNameThatIsATagValue() {
        assertNull(KubernetesPodIdentityProviderConfig.configProblem("eu-1", null));
        assertNull(KubernetesPodIdentityProviderConfig.configProblem("eu west/1", "true"));
        assertNull(KubernetesPodIdentityProviderConfig.configProblem("eu-1", "false"));
    }

    @Test
    void namesTheBadKey() {
        assertEquals("clusterName is required (the cluster's name, reported as a session tag)",
                KubernetesPodIdentityProviderConfig.configProblem(null, null));
        assertEquals("clusterName is required (the cluster's name, reported as a session tag)",
                KubernetesPodIdentityProviderConfig.configProblem("", null));
        assertEquals("clusterName cannot be an AWS session tag value: the value has a character AWS does not allow in tags (letters, digits, spaces and _ . : / = + - @)",
                KubernetesPodIdentityProviderConfig.configProblem("eu#1", null));
        assertEquals("requirePodBinding must be \"true\" or \"false\"",
                KubernetesPodIdentityProviderConfig.configProblem("eu-1", "yes"));
    }
}
