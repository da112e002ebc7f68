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
  | "NOT_YET_VALID"
  | "AUDIENCE_MISMATCH"
  | "CLAIM_INVALID"
  /** The issuer's JWKS could not be fetched: the broker's problem, not the token's. */
  | "KEYS_UNAVAILABLE";
