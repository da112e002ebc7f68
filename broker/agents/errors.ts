/**
 * Every outcome of the token-exchange endpoint other than success has one of these codes. The
 * OAuth `error` and HTTP status of each are decided in {@link AGENTS_ERROR_MAP} and nowhere else.
 * The code goes to the audit log; the client sees only the OAuth error and a generic description.
 *
 * RFC 8693 §2.2.2: a subject or actor token that is invalid for any reason, or unacceptable based on
 * policy, MUST give `invalid_request`; a target the server will not issue for SHOULD give
 * `invalid_target`. RFC 6749 §5.2 gives `unsupported_grant_type`, `unauthorized_client`, `invalid_scope`.
 */
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
  // policy (see policy/evaluate.ts)
  | "SUBJECT_UNKNOWN"
  | "AGENT_UNKNOWN"
  | "ACTOR_NOT_PERMITTED"
  | "SUBJECT_FORBIDS_ACTOR"
  | "TARGET_NOT_ALLOWED"
  | "SCOPE_NOT_ALLOWED"
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

export interface AgentsErrorMapping {
  status: 400 | 413 | 415 | 429 | 500 | 502 | 503;
  error: OAuthErrorCode;
  /** The only description a client ever sees: says which rule, never which check of a token failed. */
  description: string;
}

const badToken = "the subject_token or actor_token is not acceptable";

export const AGENTS_ERROR_MAP: Record<AgentsErrorCode, AgentsErrorMapping> = {
  REQUEST_NOT_FORM: { status: 415, error: "invalid_request", description: "the body must be application/x-www-form-urlencoded" },
  REQUEST_TOO_LARGE: { status: 413, error: "invalid_request", description: "the request body is too large" },
  REQUEST_MALFORMED: { status: 400, error: "invalid_request", description: "the request is missing a parameter, repeats one, or has an invalid value" },
  GRANT_TYPE_UNSUPPORTED: { status: 400, error: "unsupported_grant_type", description: "only urn:ietf:params:oauth:grant-type:token-exchange is supported" },
  TOKEN_TYPE_UNSUPPORTED: { status: 400, error: "invalid_request", description: "unsupported token type" },
  TOKEN_TOO_LARGE: { status: 400, error: "invalid_request", description: "a token is too large" },
  ACTOR_REQUIRED: { status: 400, error: "invalid_request", description: "this endpoint performs delegation: actor_token and actor_token_type are required" },
  TARGET_INVALID: { status: 400, error: "invalid_target", description: "name exactly one target: an AWS role ARN or an Azure identity" },
  SUBJECT_TOKEN_INVALID: { status: 400, error: "invalid_request", description: badToken },
  ACTOR_TOKEN_INVALID: { status: 400, error: "invalid_request", description: badToken },
  ACTOR_TOKEN_REPLAYED: { status: 400, error: "invalid_request", description: badToken },
  SUBJECT_UNKNOWN: { status: 400, error: "invalid_request", description: badToken },
  AGENT_UNKNOWN: { status: 400, error: "unauthorized_client", description: "the actor is not allowed to use token exchange" },
  ACTOR_NOT_PERMITTED: { status: 400, error: "invalid_request", description: "the actor may not act for this subject" },
  SUBJECT_FORBIDS_ACTOR: { status: 400, error: "invalid_request", description: "the actor may not act for this subject" },
  TARGET_NOT_ALLOWED: { status: 400, error: "invalid_target", description: "the target is not allowed" },
  SCOPE_NOT_ALLOWED: { status: 400, error: "invalid_scope", description: "the requested scope is not allowed" },
  RATE_LIMITED: { status: 429, error: "temporarily_unavailable", description: "too many requests, retry later" },
  REPLAY_CACHE_FULL: { status: 503, error: "temporarily_unavailable", description: "busy, retry later" },
  POLICY_UNAVAILABLE: { status: 503, error: "temporarily_unavailable", description: "no policy loaded yet, retry later" },
  KEYS_UNAVAILABLE: { status: 503, error: "temporarily_unavailable", description: "cannot verify tokens right now, retry later" },
  DELEGATION_UNAVAILABLE: { status: 503, error: "temporarily_unavailable", description: "the identity provider is unavailable, retry later" },
  DELEGATION_MISCONFIGURED: { status: 500, error: "server_error", description: "the broker cannot issue this delegation" },
  UPSTREAM_RETRYABLE: { status: 503, error: "temporarily_unavailable", description: "the cloud is unavailable, retry later" },
  UPSTREAM_REJECTED: { status: 502, error: "server_error", description: "the cloud refused the exchange" },
  INTERNAL: { status: 500, error: "server_error", description: "internal error" },
};

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
