/**
 * Identifiers of the token-exchange protocol (RFC 8693 §2.1, §3) and the one token type this
 * broker defines for AWS credentials.
 */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange";

export const JWT_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:jwt";
export const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";

/**
 * Issued for AWS targets: `access_token` is the base64url (no padding) of a JSON object that is at
 * once the `credential_process` output and the container-credentials response —
 * `{ Version: 1, AccessKeyId, SecretAccessKey, SessionToken, Token, Expiration, AccountId? }`.
 * Decoded, it is fed unchanged to the unmodified SDKs (see README.md).
 */
export const AWS_CREDENTIALS_TOKEN_TYPE = "urn:kcb:params:oauth:token-type:aws-credentials";

/** Subject and actor tokens must be JWTs; both identifiers are accepted for them (RFC 8693 §3). */
export const ACCEPTED_INPUT_TOKEN_TYPES: ReadonlySet<string> = new Set([JWT_TOKEN_TYPE, ACCESS_TOKEN_TYPE]);

/** RFC 8693 §2.2.1: `token_type` when the issued token is not an OAuth access token. */
export const NOT_APPLICABLE_TOKEN_TYPE = "N_A";

export interface Limits {
  /** Largest accepted request body, in bytes. */
  maxBodyBytes: number;
  /** Largest accepted subject or actor token, in characters. */
  maxTokenChars: number;
}

export const DEFAULT_LIMITS: Limits = { maxBodyBytes: 32 * 1024, maxTokenChars: 8 * 1024 };
