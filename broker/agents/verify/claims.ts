/**
 * The claims of a subject or actor token whose signature verified, checked as jose's `jwtVerify`
 * checks them (same rules, same order, so the same reason for the same token) plus the broker's
 * own: `sub` a non-empty string, the payload's `typ` `Bearer`, and for actor tokens a usable `jti`.
 * Pure: the time is a parameter.
 *
 * jose's rules, with `requiredClaims` iss/sub/exp/iat(/jti), `audience`, `clockTolerance` and
 * `maxTokenAge`: each required claim present (iss, aud, iat, jti, exp, sub in that order); `aud`
 * the audience or an array containing it; `iat`, `nbf`, `exp` numbers; `nbf` not after now +
 * tolerance; `exp` after now − tolerance; `iat` at most `maxTokenAge` + tolerance old and not ahead
 * of now by more than the tolerance. (`iss` equals the pinned issuer: checked before any key lookup.)
 */
import type { JWTPayload } from "jose";
import type { TokenRejection } from "./rejection.ts";

export interface ClaimRules {
  audience: string;
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number;
  requireJti: boolean;
}

export type VerifiedClaims = JWTPayload & { iss: string; sub: string; exp: number; iat: number };

export type ClaimsCheck = { ok: true; claims: VerifiedClaims } | { ok: false; reason: TokenRejection; detail: string };

const PRESENCE = ["iss", "aud", "iat", "exp", "sub"] as const;
const PRESENCE_WITH_JTI = ["iss", "aud", "iat", "jti", "exp", "sub"] as const;

const failed = (reason: TokenRejection, detail: string): ClaimsCheck => ({ ok: false, reason, detail });

/** `nowSeconds`: whole seconds since the epoch (as jose's `currentDate` is read). */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, nowSeconds: number): ClaimsCheck {
  for (const claim of rules.requireJti ? PRESENCE_WITH_JTI : PRESENCE) {
    if (!Object.hasOwn(payload, claim)) return failed(claim === "aud" ? "AUDIENCE_MISMATCH" : "CLAIM_INVALID", `claim ${claim}: missing`);
  }
  const aud = payload.aud;
  if (!(aud === rules.audience || (Array.isArray(aud) && aud.includes(rules.audience))))
    return failed("AUDIENCE_MISMATCH", "claim aud: check_failed");
  const tolerance = rules.clockToleranceSeconds;
  const { iat, nbf, exp } = payload;
  if (typeof iat !== "number") return failed("CLAIM_INVALID", "claim iat: invalid");
  if (nbf !== undefined) {
    if (typeof nbf !== "number") return failed("NOT_YET_VALID", "claim nbf: invalid");
    if (nbf > nowSeconds + tolerance) return failed("NOT_YET_VALID", "claim nbf: check_failed");
  }
  if (typeof exp !== "number") return failed("CLAIM_INVALID", "claim exp: invalid");
  if (exp <= nowSeconds - tolerance) return failed("EXPIRED", "exp in the past");
  const age = nowSeconds - iat;
  if (age - tolerance > rules.maxTokenAgeSeconds) return failed("TOO_OLD", "iat older than the maximum token age");
  if (age < -tolerance) return failed("ISSUED_IN_FUTURE", "claim iat: check_failed");

  if (typeof payload.sub !== "string" || payload.sub === "") return failed("CLAIM_INVALID", "sub is not a string");
  // Keycloak's access tokens say `"typ": "Bearer"` in the payload; its ID, refresh and logout tokens say otherwise.
  if (payload.typ !== "Bearer") return failed("NOT_ACCESS_TOKEN", "payload typ is not Bearer");
  if (rules.requireJti && (typeof payload.jti !== "string" || payload.jti === "" || payload.jti.length > 256))
    return failed("CLAIM_INVALID", "jti is not a usable string");
  return { ok: true, claims: payload as VerifiedClaims };
}
