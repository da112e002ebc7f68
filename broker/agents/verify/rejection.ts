/** Why a subject or actor token was refused. For the audit log only; the client never sees it. */
export type TokenRejection =
  | "MALFORMED"
  | "ALG_NOT_ALLOWED"
  | "HEADER_FORBIDDEN"
  | "KID_INVALID"
  | "NESTED_JWT"
  | "ISSUER_UNTRUSTED"
  | "KEY_NOT_FOUND"
  | "SIGNATURE_INVALID"
  | "EXPIRED"
  /** `iat` older than the maximum token age. */
  | "TOO_OLD"
  /** `iat` ahead of the clock beyond the tolerance. */
  | "ISSUED_IN_FUTURE"
  /** Not an access token of the issuer: the payload's `typ` is not `Bearer` (Keycloak marks ID, refresh and logout tokens otherwise). */
  | "NOT_ACCESS_TOKEN"
  | "NOT_YET_VALID"
  | "AUDIENCE_MISMATCH"
  | "CLAIM_INVALID"
  /** The issuer's JWKS could not be fetched: the broker's problem, not the token's. */
  | "KEYS_UNAVAILABLE";
