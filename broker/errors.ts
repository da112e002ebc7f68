/**
 * Every failure the broker reports carries one of these stable codes. The HTTP status (and, for
 * the token-exchange endpoint, the OAuth error) for each code is decided here and nowhere else.
 * Messages are for operators and never contain a token, secret or verification detail.
 */
export type BrokerErrorCode =
  // configuration
  | "CONFIG_INVALID"
  // the workload's own Keycloak token
  | "KEYCLOAK_UNAVAILABLE"
  | "KEYCLOAK_REJECTED"
  /** Keycloak answered with a token the clouds would refuse (not a JWT, wrong iss/aud, no exp …): a realm misconfiguration. */
  | "KEYCLOAK_INVALID_TOKEN"
  | "CLIENT_ASSERTION_UNREADABLE"
  // exchanges
  | "AWS_RETRYABLE"
  | "AWS_REJECTED"
  | "AZURE_RETRYABLE"
  | "AZURE_REJECTED"
  // cache
  | "CREDENTIALS_EXPIRING"
  // serving
  | "UNAUTHORIZED"
  | "BAD_REQUEST"
  | "UNKNOWN_TARGET";

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

export interface ErrorMapping {
  status: 400 | 401 | 403 | 404 | 500 | 502 | 503;
  /** Whether a client retrying later may succeed. */
  retryable: boolean;
}

export const ERROR_MAP: Record<BrokerErrorCode, ErrorMapping> = {
  CONFIG_INVALID: { status: 500, retryable: false },
  KEYCLOAK_UNAVAILABLE: { status: 503, retryable: true },
  KEYCLOAK_REJECTED: { status: 502, retryable: false },
  KEYCLOAK_INVALID_TOKEN: { status: 502, retryable: false },
  CLIENT_ASSERTION_UNREADABLE: { status: 503, retryable: true },
  AWS_RETRYABLE: { status: 503, retryable: true },
  AWS_REJECTED: { status: 502, retryable: false },
  AZURE_RETRYABLE: { status: 503, retryable: true },
  AZURE_REJECTED: { status: 502, retryable: false },
  CREDENTIALS_EXPIRING: { status: 503, retryable: true },
  UNAUTHORIZED: { status: 401, retryable: false },
  BAD_REQUEST: { status: 400, retryable: false },
  UNKNOWN_TARGET: { status: 404, retryable: false },
};
