/**
 * The protocol mappers that shape workload tokens. Hardcoded-claim mappers named `sub` and `aud`
 * replace Keycloak's own values (the per-cluster service-account UUID, the role-derived audience),
 * so the claims AWS and Entra match on are the configured ones, as plain strings, on every cluster.
 */
import { AWS_SESSION_TAGS_CLAIM } from "../../realm-config/model/conventions.ts";
import type { DesiredMapper } from "./types.ts";

/** Keycloak splits claim names on unescaped dots into nested objects; a URL claim name needs its dots escaped. */
export function escapeClaimName(name: string): string {
  return name.replace(/\./g, "\\.");
}

/** A claim with a fixed value, in access tokens (and introspection) only. */
export function hardcodedClaim(name: string, claim: string, value: string, jsonType: "String" | "JSON"): DesiredMapper {
  return {
    name,
    protocolMapper: "oidc-hardcoded-claim-mapper",
    config: {
      "claim.name": claim,
      "claim.value": value,
      "jsonType.label": jsonType,
      "access.token.claim": "true",
      "id.token.claim": "false",
      "userinfo.token.claim": "false",
      "introspection.token.claim": "true",
    },
  };
}

/**
 * The AWS session-tags claim value: `{principal_tags:{K:[v]}, transitive_tag_keys:[K]}`, keys sorted
 * so the stored JSON (and so the diff) is stable.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html#id_session-tags_adding-assume-role-idp
 */
export function sessionTagsClaimValue(tags: Record<string, string>, transitive: readonly string[]): string {
  const principal_tags: Record<string, string[]> = {};
  for (const key of Object.keys(tags).sort()) principal_tags[key] = [tags[key] ?? ""];
  return JSON.stringify({ principal_tags, transitive_tag_keys: [...transitive].sort() });
}

export function sessionTagsMapper(name: string, tags: Record<string, string>, transitive: readonly string[]): DesiredMapper {
  return hardcodedClaim(name, escapeClaimName(AWS_SESSION_TAGS_CLAIM), sessionTagsClaimValue(tags, transitive), "JSON");
}
