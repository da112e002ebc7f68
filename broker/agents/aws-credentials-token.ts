/**
 * The `access_token` of `urn:kcb:params:oauth:token-type:aws-credentials`: base64url (no padding) of one JSON object
 * that is both shapes the unmodified AWS SDKs read —
 * - `credential_process` output: `Version: 1`, `AccessKeyId`, `SecretAccessKey`, `SessionToken`, `Expiration`;
 * - container-credentials response (`AWS_CONTAINER_CREDENTIALS_FULL_URI`, SDK `fromHttp`):
 *   `AccessKeyId`, `SecretAccessKey`, `Token`, `Expiration`;
 * plus `AccountId`. `Expiration` is RFC 3339 UTC ending in `Z`. Each SDK ignores the members of the
 * other shape.
 */
import type { AwsCredentials } from "../credentials.ts";

export interface AwsCredentialsDocument {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Token: string;
  /** RFC 3339, UTC, e.g. `2026-01-01T00:15:00Z`. */
  Expiration: string;
  AccountId: string;
}

/** RFC 3339 without milliseconds, ending in `Z` (what STS itself returns). */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function awsCredentialsDocument(credentials: AwsCredentials): AwsCredentialsDocument {
  return {
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Token: credentials.sessionToken,
    Expiration: rfc3339(credentials.expiration),
    AccountId: credentials.accountId,
  };
}

/** The `access_token` value for `issued_token_type` = `urn:kcb:params:oauth:token-type:aws-credentials`. */
export function encodeAwsCredentialsToken(credentials: AwsCredentials): string {
  return Buffer.from(JSON.stringify(awsCredentialsDocument(credentials)), "utf8").toString("base64url");
}

/** What a client does with the token: base64url-decode it; the result is the JSON SDKs read. */
export function decodeAwsCredentialsToken(accessToken: string): AwsCredentialsDocument {
  return JSON.parse(Buffer.from(accessToken, "base64url").toString("utf8")) as AwsCredentialsDocument;
}
