package io.kcb.keycloak.tags;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The {@code https://aws.amazon.com/tags} claim: {@code {principal_tags: {key: [value]}, transitive_tag_keys: [key]}}.
 * Merges tags into what an earlier mapper already wrote and checks the result against
 * {@link SessionTagLimits}, so Keycloak never issues a token STS would refuse.
 * <a href="https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp">Passing session tags using AssumeRoleWithWebIdentity</a>.
 */
public final class SessionTagsClaim {

    public static final String CLAIM = "https://aws.amazon.com/tags";
    public static final String PRINCIPAL_TAGS = "principal_tags";
    public static final String TRANSITIVE_TAG_KEYS = "transitive_tag_keys";

    private SessionTagsClaim() {
    }

    /**
     * @param existing   the claim as an earlier mapper left it (null, or a JSON object as plain maps and lists)
     * @param tags       the tags to add, key → value
     * @param transitive keys of {@code tags} to add to {@code transitive_tag_keys}
     * @return the merged claim, as plain maps and lists
     * @throws SessionTagError when the existing claim is malformed, a key is set twice, or a limit is broken
     */
    public static Map<String, Object> merge(Object existing, Map<String, String> tags, List<String> transitive) throws SessionTagError {
        Map<String, List<String>> principalTags = new LinkedHashMap<>();
        List<String> transitiveKeys = new ArrayList<>();
        if (existing != null) {
            if (!(existing instanceof Map<?, ?> claim)) {
                throw new SessionTagError(CLAIM + " is not a JSON object");
            }
            Object existingTags = claim.get(PRINCIPAL_TAGS);
            if (existingTags != null) {
                if (!(existingTags instanceof Map<?, ?> tagMap)) {
                    throw new SessionTagError(CLAIM + " " + PRINCIPAL_TAGS + " is not a JSON object");
                }
                for (Map.Entry<?, ?> entry : tagMap.entrySet()) {
                    principalTags.put(String.valueOf(entry.getKey()), values(entry.getKey(), entry.getValue()));
                }
            }
            Object existingTransitive = claim.get(TRANSITIVE_TAG_KEYS);
            if (existingTransitive != null) {
                if (!(existingTransitive instanceof List<?> list) || !list.stream().allMatch(String.class::isInstance)) {
                    throw new SessionTagError(CLAIM + " " + TRANSITIVE_TAG_KEYS + " is not an array of strings");
                }
                list.forEach(key -> transitiveKeys.add((String) key));
            }
        }

        for (Map.Entry<String, String> tag : tags.entrySet()) {
            String lower = tag.getKey().toLowerCase(Locale.ROOT);
            if (principalTags.keySet().stream().anyMatch(key -> key.toLowerCase(Locale.ROOT).equals(lower))) {
                throw new SessionTagError("tag key \"" + tag.getKey() + "\" is already set in " + CLAIM + " by another mapper (tag keys are case-insensitive)");
            }
            principalTags.put(tag.getKey(), List.of(tag.getValue()));
        }
        for (String key : transitive) {
            if (!transitiveKeys.contains(key)) {
                transitiveKeys.add(key);
            }
        }
        check(principalTags, transitiveKeys);

        Map<String, Object> merged = new LinkedHashMap<>();
        merged.put(PRINCIPAL_TAGS, principalTags);
        if (!transitiveKeys.isEmpty()) {
            merged.put(TRANSITIVE_TAG_KEYS, transitiveKeys);
        }
        return merged;
    }

    /** Checks a whole tag set as STS does; the message names the first broken limit and its key. */
    static void check(Map<String, List<String>> principalTags, List<String> transitiveKeys) throws SessionTagError {
        if (principalTags.size() > SessionTagLimits.MAX_TAGS) {
            throw new SessionTagError(principalTags.size() + " session tags, more than the " + SessionTagLimits.MAX_TAGS + " AWS allows");
        }
        for (Map.Entry<String, List<String>> tag : principalTags.entrySet()) {
            String keyProblem = SessionTagLimits.keyProblem(tag.getKey());
            if (keyProblem != null) {
                throw new SessionTagError(keyProblem);
            }
            if (tag.getValue().size() != 1) {
                throw new SessionTagError("tag \"" + tag.getKey() + "\" has " + tag.getValue().size() + " values; AWS takes exactly one");
            }
            String valueProblem = SessionTagLimits.valueProblem(tag.getValue().get(0));
            if (valueProblem != null) {
                throw new SessionTagError("tag \"" + tag.getKey() + "\": " + valueProblem);
            }
        }
        for (String key : transitiveKeys) {
            if (principalTags.keySet().stream().noneMatch(tagKey -> tagKey.equalsIgnoreCase(key))) {
                throw new SessionTagError("transitive tag key \"" + key + "\" is not one of the session tags");
            }
        }
    }

    private static List<String> values(Object key, Object value) throws SessionTagError {
        if (value instanceof String string) {
            return List.of(string);
        }
        if (value instanceof List<?> list && list.stream().allMatch(String.class::isInstance)) {
            return list.stream().map(String.class::cast).toList();
        }
        throw new SessionTagError("tag \"" + key + "\" in " + CLAIM + " is neither a string nor an array of strings");
    }
}
