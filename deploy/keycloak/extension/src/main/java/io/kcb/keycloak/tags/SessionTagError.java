package io.kcb.keycloak.tags;

/** Session tags that AWS STS would refuse; the message names the limit and the key. */
public final class SessionTagError extends Exception {
    private static final long serialVersionUID = 1L;

    public SessionTagError(String message) {
        super(message);
    }
}
