package io.kcb.keycloak.pod;

/** A validated assertion that this extension refuses; the message says why (no secret in it). */
public final class AssertionRefused extends Exception {
    private static final long serialVersionUID = 1L;

    public AssertionRefused(String reason) {
        super(reason);
    }
}
