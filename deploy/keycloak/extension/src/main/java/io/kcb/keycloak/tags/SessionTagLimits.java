package io.kcb.keycloak.tags;

import java.util.regex.Pattern;

/**
 * AWS STS limits on session tags passed by a web-identity token: at most 50 tags, keys 1–128 and values
 * 0–256 characters of {@code [\p{L}\p{Z}\p{N}_.:/=+\-@]}, transitive keys among the tags.
 * <a href="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_know">IAM: session tags</a>,
 * <a href="https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html">STS API: Tag</a>.
 */
public final class SessionTagLimits {

    public static final int MAX_TAGS = 50;
    public static final int MAX_KEY_LENGTH = 128;
    public static final int MAX_VALUE_LENGTH = 256;

    private static final Pattern CHARSET = Pattern.compile("[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*");

    private SessionTagLimits() {
    }

    /** Why {@code key} cannot be a session-tag key, or null when it can. */
    public static String keyProblem(String key) {
        if (key == null || key.isEmpty()) {
            return "a tag key must not be empty";
        }
        if (key.codePointCount(0, key.length()) > MAX_KEY_LENGTH) {
            return "tag key \"" + shorten(key) + "\" is longer than " + MAX_KEY_LENGTH + " characters";
        }
        if (!CHARSET.matcher(key).matches()) {
            return "tag key \"" + shorten(key) + "\" has a character AWS does not allow in tags (letters, digits, spaces and _ . : / = + - @)";
        }
        return null;
    }

    /** Why {@code value} cannot be a session-tag value, or null when it can. */
    public static String valueProblem(String value) {
        if (value.codePointCount(0, value.length()) > MAX_VALUE_LENGTH) {
            return "a value of " + value.codePointCount(0, value.length()) + " characters is longer than " + MAX_VALUE_LENGTH;
        }
        if (!CHARSET.matcher(value).matches()) {
            return "the value has a character AWS does not allow in tags (letters, digits, spaces and _ . : / = + - @)";
        }
        return null;
    }

    private static String shorten(String text) {
        return text.length() <= 40 ? text : text.substring(0, 40) + "…";
    }
}
