/**
 * Session tags and source identity carried in a web-identity token (IAM User Guide, "Passing session
 * tags using AssumeRoleWithWebIdentity", "Rules for adding session tags", "IAM and AWS STS quotas"):
 * - `https://aws.amazon.com/tags` = `{ principal_tags: { Key: ["value"] }, transitive_tag_keys?: ["Key"] }`;
 *   one value per key, at most 50 tags, keys 1–128 and values 0–256 characters of
 *   `[\p{L}\p{Z}\p{N}_.:/=+\-@]`, keys unique ignoring case, no `aws:` prefix, transitive keys must be tags.
 * - `https://aws.amazon.com/source_identity` = a string of 2–64 `[\w+=,.@-]`, not starting with `aws:`.
 * A token that breaks these rules is an invalid token (InvalidIdentityToken).
 */
import { AWS_SESSION_TAGS_CLAIM } from "../../../../realm-config/model/conventions.ts";
import { isRecord } from "../common/issuer-keys.ts";
import { StsError } from "./errors.ts";

export const AWS_SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity";

export interface SessionTags {
  tags: Record<string, string>;
  transitiveTagKeys: string[];
}

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const MAX_TAGS = 50;

function invalid(message: string): StsError {
  return new StsError("InvalidIdentityToken", message);
}

/** The token's session tags, or `undefined` when it carries none. Throws InvalidIdentityToken on a malformed claim. */
export function parseSessionTags(payload: Record<string, unknown>): SessionTags | undefined {
  const claim = payload[AWS_SESSION_TAGS_CLAIM];
  if (claim === undefined) return undefined;
  if (!isRecord(claim) || !isRecord(claim.principal_tags)) throw invalid("The session tags claim must be an object with principal_tags");
  for (const k of Object.keys(claim)) {
    if (k !== "principal_tags" && k !== "transitive_tag_keys") throw invalid(`Unsupported member in the session tags claim: ${k}`);
  }
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  const entries = Object.entries(claim.principal_tags);
  if (entries.length > MAX_TAGS) throw invalid(`The number of session tags exceeds the limit of ${MAX_TAGS}`);
  for (const [key, value] of entries) {
    if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) throw invalid(`Invalid session tag key: ${key.slice(0, 140)}`);
    if (key.toLowerCase().startsWith("aws:")) throw invalid(`Session tag keys cannot start with aws: (${key})`);
    if (seen.has(key.toLowerCase())) throw invalid(`Duplicate session tag key (keys are case-insensitive): ${key}`);
    seen.add(key.toLowerCase());
    if (!Array.isArray(value) || value.length !== 1 || typeof value[0] !== "string") {
      throw invalid(`Session tag ${key} must have exactly one string value`);
    }
    const v = value[0];
    if (v.length > 256 || !TAG_CHARS.test(v)) throw invalid(`Invalid value for session tag ${key}`);
    tags[key] = v;
  }
  const transitive = claim.transitive_tag_keys ?? [];
  if (!Array.isArray(transitive) || !transitive.every((k): k is string => typeof k === "string")) {
    throw invalid("transitive_tag_keys must be an array of strings");
  }
  for (const k of transitive) if (!(k in tags)) throw invalid(`Transitive tag key ${k} is not a session tag`);
  return { tags, transitiveTagKeys: transitive };
}

/** The token's source identity, or `undefined`. Throws InvalidIdentityToken on a malformed claim. */
export function parseSourceIdentity(payload: Record<string, unknown>): string | undefined {
  const value = payload[AWS_SOURCE_IDENTITY_CLAIM];
  if (value === undefined) return undefined;
  if (
    typeof value !== "string" ||
    value.length < 2 ||
    value.length > 64 ||
    !/^[\w+=,.@-]*$/.test(value) ||
    value.toLowerCase().startsWith("aws:")
  ) {
    throw invalid("The source identity claim must be 2-64 characters of [\\w+=,.@-] and not start with aws:");
  }
  return value;
}
