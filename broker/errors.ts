/**
 * The sidecar's error edge: every failure it reports carries one of these stable codes, and
 * {@link ERRORS} is the one table that decides, per code, the HTTP status, whether a retry may
 * succeed, the message a client sees and, for the token-exchange endpoint, the OAuth error.
 * `serve/on-error.ts` (credential endpoints, in each SDK's body shape) and `agents/exchange.ts`
 * (RFC 6749 §5.2 JSON) only read it. Internal messages are for operators and never contain a
 * token, secret or verification detail; clients only ever get the table's message.
 *
 * Two families of codes, one table:
 * - {@link BrokerError}: the workload's own credentials (config, Keycloak, the clouds' exchanges,
 *   the cache, the credential endpoints);
 * - {@link AgentsError}: the RFC 8693 token-exchange endpoint for agents. RFC 8693 §2.2.2: a
 *   subject or actor token that is invalid for any reason, or unacceptable based on policy, MUST
 *   give `invalid_request`; a target the server will not issue for SHOULD give `invalid_target`.
 *   RFC 6749 §5.2 gives `unsupported_grant_type`, `unauthorized_client`, `invalid_scope`.
 */

export const BROKER_ERROR_CODES = [
  "CONFIG_INVALID",
  "KEYCLOAK_UNAVAILABLE",
  "KEYCLOAK_REJECTED",
  "KEYCLOAK_INVALID_TOKEN",
  "CLIENT_ASSERTION_UNREADABLE",
  "AWS_RETRYABLE",
  "AWS_REJECTED",
  "AZURE_RETRYABLE",
  "AZURE_REJECTED",
  "CREDENTIALS_EXPIRING",
  "UNAUTHORIZED",
  "BAD_REQUEST",
  "UNKNOWN_TARGET",
] as const;
export type BrokerErrorCode = (typeof BROKER_ERROR_CODES)[number];

/** Why the agents' policy refuses an exchange (agents/policy/evaluate.ts's denial reasons). */
export type PolicyDenialCode =
  | "SUBJECT_UNKNOWN"
  | "SUBJECT_CLIENT_MISMATCH"
  | "AGENT_UNKNOWN"
  | "ACTOR_NOT_PERMITTED"
  | "SUBJECT_FORBIDS_ACTOR"
  | "TARGET_NOT_ALLOWED"
  | "SCOPE_NOT_ALLOWED";

export type AgentsErrorCode =
  // the request itself
  | "REQUEST_NOT_FORM"
  | "REQUEST_TOO_LARGE"
  | "REQUEST_MALFORMED"
  | "GRANT_TYPE_UNSUPPORTED"
  | "TOKEN_TYPE_UNSUPPORTED"
  | "TOKEN_TOO_LARGE"
  | "ACTOR_REQUIRED"
  | "TARGET_INVALID"
  // the presented tokens
  | "SUBJECT_TOKEN_INVALID"
  | "ACTOR_TOKEN_INVALID"
  | "ACTOR_TOKEN_REPLAYED"
  // policy (see agents/policy/evaluate.ts)
  | PolicyDenialCode
  // operating conditions
  | "RATE_LIMITED"
  | "REPLAY_CACHE_FULL"
  | "POLICY_UNAVAILABLE"
  | "KEYS_UNAVAILABLE"
  | "DELEGATION_UNAVAILABLE"
  | "DELEGATION_MISCONFIGURED"
  | "UPSTREAM_RETRYABLE"
  | "UPSTREAM_REJECTED"
  | "INTERNAL";

export type OAuthErrorCode =
  | "invalid_request"
  | "unsupported_grant_type"
  | "unauthorized_client"
  | "invalid_target"
  | "invalid_scope"
  | "temporarily_unavailable"
  | "server_error";

export interface ErrorRow {
  status: 400 | 401 | 403 | 404 | 413 | 415 | 429 | 500 | 502 | 503;
  /** Whether a client retrying later may succeed (the answer then carries `Retry-After`). */
  retryable: boolean;
  /** The only description a client ever sees: says which rule, never which check of a token failed. */
  message: string;
}

export interface CredentialErrorRow extends ErrorRow {
  /**
   * The status on the two Azure managed-identity protocols (App Service, IMDS) when it differs:
   * MSAL retries 404s there, azure-identity for Python retries IMDS 404s for a long while and reads
   * an IMDS 400 as "no identity here", which is the truth.
   */
  azureStatus?: 400;
}

export interface TokenExchangeErrorRow extends ErrorRow {
  /** RFC 6749 §5.2 `error`. */
  oauth: OAuthErrorCode;
}

const retryLater = "credentials are temporarily unavailable, retry later";
const badToken = "the subject_token or actor_token is not acceptable";

/** The one table: code → HTTP status, retryability, client message (and the OAuth error). */
export const ERRORS: { readonly [C in BrokerErrorCode]: CredentialErrorRow } & { readonly [C in AgentsErrorCode]: TokenExchangeErrorRow } =
  {
    // configuration
    CONFIG_INVALID: { status: 500, retryable: false, message: "the broker is misconfigured" },
    // the workload's own Keycloak token
    KEYCLOAK_UNAVAILABLE: { status: 503, retryable: true, message: retryLater },
    KEYCLOAK_REJECTED: { status: 502, retryable: false, message: "the identity provider refused the workload" },
    // Keycloak answered with a token the clouds would refuse (not a JWT, wrong iss/aud, no exp …): a realm misconfiguration.
    KEYCLOAK_INVALID_TOKEN: { status: 502, retryable: false, message: "the identity provider issued an unusable token" },
    CLIENT_ASSERTION_UNREADABLE: { status: 503, retryable: true, message: retryLater },
    // exchanges
    AWS_RETRYABLE: { status: 503, retryable: true, message: retryLater },
    AWS_REJECTED: { status: 502, retryable: false, message: "AWS refused the credential exchange" },
    AZURE_RETRYABLE: { status: 503, retryable: true, message: retryLater },
    AZURE_REJECTED: { status: 502, retryable: false, message: "Entra ID refused the credential exchange" },
    // cache
    CREDENTIALS_EXPIRING: { status: 503, retryable: true, message: retryLater },
    // serving
    UNAUTHORIZED: { status: 401, retryable: false, message: "unauthorized" },
    BAD_REQUEST: { status: 400, retryable: false, message: "bad request" },
    UNKNOWN_TARGET: { status: 404, azureStatus: 400, retryable: false, message: "unknown target" },

    // the token-exchange request itself
    REQUEST_NOT_FORM: {
      status: 415,
      retryable: false,
      oauth: "invalid_request",
      message: "the body must be application/x-www-form-urlencoded",
    },
    REQUEST_TOO_LARGE: { status: 413, retryable: false, oauth: "invalid_request", message: "the request body is too large" },
    REQUEST_MALFORMED: {
      status: 400,
      retryable: false,
      oauth: "invalid_request",
      message: "the request is missing a parameter, repeats one, or has an invalid value",
    },
    GRANT_TYPE_UNSUPPORTED: {
      status: 400,
      retryable: false,
      oauth: "unsupported_grant_type",
      message: "only urn:ietf:params:oauth:grant-type:token-exchange is supported",
    },
    TOKEN_TYPE_UNSUPPORTED: { status: 400, retryable: false, oauth: "invalid_request", message: "unsupported token type" },
    TOKEN_TOO_LARGE: { status: 400, retryable: false, oauth: "invalid_request", message: "a token is too large" },
    ACTOR_REQUIRED: {
      status: 400,
      retryable: false,
      oauth: "invalid_request",
      message: "this endpoint performs delegation: actor_token and actor_token_type are required",
    },
    TARGET_INVALID: {
      status: 400,
      retryable: false,
      oauth: "invalid_target",
      message: "name exactly one target: an AWS role ARN or an Azure identity",
    },
    // the presented tokens
    SUBJECT_TOKEN_INVALID: { status: 400, retryable: false, oauth: "invalid_request", message: badToken },
    ACTOR_TOKEN_INVALID: { status: 400, retryable: false, oauth: "invalid_request", message: badToken },
    ACTOR_TOKEN_REPLAYED: { status: 400, retryable: false, oauth: "invalid_request", message: badToken },
    // policy
    SUBJECT_UNKNOWN: { status: 400, retryable: false, oauth: "invalid_request", message: badToken },
    SUBJECT_CLIENT_MISMATCH: { status: 400, retryable: false, oauth: "invalid_request", message: badToken },
    AGENT_UNKNOWN: {
      status: 400,
      retryable: false,
      oauth: "unauthorized_client",
      message: "the actor is not allowed to use token exchange",
    },
    ACTOR_NOT_PERMITTED: { status: 400, retryable: false, oauth: "invalid_request", message: "the actor may not act for this subject" },
    SUBJECT_FORBIDS_ACTOR: { status: 400, retryable: false, oauth: "invalid_request", message: "the actor may not act for this subject" },
    TARGET_NOT_ALLOWED: { status: 400, retryable: false, oauth: "invalid_target", message: "the target is not allowed" },
    SCOPE_NOT_ALLOWED: { status: 400, retryable: false, oauth: "invalid_scope", message: "the requested scope is not allowed" },
    // operating conditions
    RATE_LIMITED: { status: 429, retryable: true, oauth: "temporarily_unavailable", message: "too many requests, retry later" },
    REPLAY_CACHE_FULL: { status: 503, retryable: true, oauth: "temporarily_unavailable", message: "busy, retry later" },
    POLICY_UNAVAILABLE: { status: 503, retryable: true, oauth: "temporarily_unavailable", message: "no policy loaded yet, retry later" },
    KEYS_UNAVAILABLE: {
      status: 503,
      retryable: true,
      oauth: "temporarily_unavailable",
      message: "cannot verify tokens right now, retry later",
    },
    DELEGATION_UNAVAILABLE: {
      status: 503,
      retryable: true,
      oauth: "temporarily_unavailable",
      message: "the identity provider is unavailable, retry later",
    },
    DELEGATION_MISCONFIGURED: { status: 500, retryable: false, oauth: "server_error", message: "the broker cannot issue this delegation" },
    UPSTREAM_RETRYABLE: {
      status: 503,
      retryable: true,
      oauth: "temporarily_unavailable",
      message: "the cloud is unavailable, retry later",
    },
    UPSTREAM_REJECTED: { status: 502, retryable: false, oauth: "server_error", message: "the cloud refused the exchange" },
    INTERNAL: { status: 500, retryable: false, oauth: "server_error", message: "internal error" },
  };

export function isBrokerErrorCode(code: unknown): code is BrokerErrorCode {
  return typeof code === "string" && (BROKER_ERROR_CODES as readonly string[]).includes(code);
}

/** A failure of the workload's own credentials or of a credential endpoint. */
export class BrokerError extends Error {
  override readonly name = "BrokerError";
  constructor(
    readonly code: BrokerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A failure of the token-exchange endpoint. `message` and `detail` are for the audit log only. */
export class AgentsError extends Error {
  override readonly name = "AgentsError";
  constructor(
    readonly code: AgentsErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
  readonly retryAfterSeconds: number | undefined;
}
