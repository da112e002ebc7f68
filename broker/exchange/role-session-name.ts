/**
 * `RoleSessionName` of AssumeRoleWithWebIdentity: 2–64 characters of `[\w+=,.@-]`
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
 * It shows in CloudTrail and in the assumed-role ARN, so it says who asked for what.
 */
import { createHash } from "node:crypto";

export const ROLE_SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const MAX = 64;
const HASH_CHARS = 8;

/**
 * A valid, deterministic session name for a workload and one of its targets:
 * `<clientId>@<target>`, invalid characters replaced by `-`. When longer than 64 characters it is
 * cut and ends with `-` + 8 hex characters of sha256 of the full name, so two long names that
 * share a prefix still differ.
 *
 * @example roleSessionName("payments-api", "s3-reader") // "payments-api@s3-reader"
 */
export function roleSessionName(clientId: string, target: string): string {
  const full = `${clientId}@${target}`.replace(/[^\w+=,.@-]/g, "-");
  const padded = full.length < 2 ? full.padEnd(2, "-") : full;
  if (padded.length <= MAX) return padded;
  const hash = createHash("sha256").update(`${clientId}@${target}`).digest("hex").slice(0, HASH_CHARS);
  return `${padded.slice(0, MAX - HASH_CHARS - 1)}-${hash}`;
}
