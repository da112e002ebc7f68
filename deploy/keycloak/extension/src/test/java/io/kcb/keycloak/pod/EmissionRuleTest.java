package io.kcb.keycloak.pod;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EmissionRuleTest {

    @ParameterizedTest(name = "{0} asserted by {1}, token of {2}, service account of {3} → {4}")
    @CsvSource(nullValues = "null", value = {
        "client_credentials, c1, c1, c1, true",
        // standard token exchange copies the requester's client-auth attributes onto another session
        "urn:ietf:params:oauth:grant-type:token-exchange, c1, c1, c1, false",
        "urn:ietf:params:oauth:grant-type:token-exchange, c1, c2, c2, false",
        "refresh_token, c1, c1, c1, false",
        "password, c1, c1, null, false",
        "null, c1, c1, c1, false",
        // a token of another client, or of a user that is not the asserting client's service account
        "client_credentials, c1, c2, c2, false",
        "client_credentials, c1, c1, c2, false",
        "client_credentials, c1, c1, null, false",
        "client_credentials, null, c1, c1, false",
    })
    void emitsOnlyForTheAssertingClientsOwnClientCredentialsToken(String grant, String asserting, String tokenClient,
                                                                  String serviceAccountOf, boolean emits) {
        assertEquals(emits, EmissionRule.emits(grant, asserting, tokenClient, serviceAccountOf));
    }
}
