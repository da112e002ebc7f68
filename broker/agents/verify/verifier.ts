/**
 * Verifies subject and actor tokens: the offline {@link precheckToken} first, then jose's
 * `jwtVerify` with the pinned issuer, the broker's audience, the algorithm allow-list, an explicit
 * clock tolerance, a maximum age (which also refuses an `iat` ahead of the clock) and the injected
 * clock; then the payload's `typ` must be `Bearer` (an access token, not an ID or refresh token).
 * Never throws: a refusal is a value with a reason code.
 */
import { errors, jwtVerify, type JWTPayload } from "jose";
import type { Clock } from "../../clock.ts";
import { DEFAULT_MAX_TOKEN_AGE_SECONDS, type AsymmetricAlg, type TokenVerifierConfig } from "../ports.ts";
import { precheckToken } from "./precheck.ts";
import type { TokenRejection } from "./rejection.ts";

export const DEFAULT_ALGORITHMS: readonly AsymmetricAlg[] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];

export interface VerifiedToken {
  /** All claims, with `iss`, `sub`, `exp`, `iat` (and `jti` when required) present. */
  claims: JWTPayload & { iss: string; sub: string; exp: number; iat: number };
  kid: string;
}

export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; reason: TokenRejection; detail: string };

export interface TokenVerifier {
  /** `requireJti`: actor tokens must carry a `jti` (replay protection). */
  verify(token: string, options?: { requireJti?: boolean }): Promise<VerifyResult>;
}

function classify(error: unknown): { reason: TokenRejection; detail: string } {
  if (error instanceof errors.JWTExpired)
    return error.claim === "iat"
      ? { reason: "TOO_OLD", detail: "iat older than the maximum token age" }
      : { reason: "EXPIRED", detail: "exp in the past" };
  if (error instanceof errors.JWTClaimValidationFailed) {
    const reason: TokenRejection =
      error.claim === "aud"
        ? "AUDIENCE_MISMATCH"
        : error.claim === "nbf"
          ? "NOT_YET_VALID"
          : error.claim === "iat" && error.reason === "check_failed"
            ? "ISSUED_IN_FUTURE"
            : "CLAIM_INVALID";
    return { reason, detail: `claim ${error.claim}: ${error.reason}` };
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return { reason: "SIGNATURE_INVALID", detail: "signature does not verify" };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return { reason: "KEY_NOT_FOUND", detail: "kid not in the issuer's JWKS" };
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return { reason: "ALG_NOT_ALLOWED", detail: error.code };
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return { reason: "MALFORMED", detail: error.code };
  // Anything else comes from fetching the JWKS (timeout, HTTP status, network, invalid JWKS).
  const code = error instanceof errors.JOSEError ? error.code : error instanceof Error ? error.name : "unknown";
  return { reason: "KEYS_UNAVAILABLE", detail: `JWKS lookup failed: ${code}` };
}

/** Builds the verifier once from its configuration (validated here: bad caller input throws TypeError). */
export function createTokenVerifier(config: TokenVerifierConfig, clock: Clock): TokenVerifier {
  if (!/^https:\/\//.test(config.issuer)) throw new TypeError("issuer must be an https URL");
  if (config.audience === "") throw new TypeError("audience must not be empty");
  const algorithms = config.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.length === 0) throw new TypeError("algorithms must not be empty");
  const clockTolerance = config.clockToleranceSeconds ?? 30;
  const maxTokenAge = config.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS;
  if (!(maxTokenAge > 0)) throw new TypeError("maxTokenAgeSeconds must be positive");

  return {
    async verify(token, options = {}) {
      const pre = precheckToken(token, config.issuer, algorithms);
      if (!pre.ok) return pre;
      const requiredClaims = ["iss", "sub", "exp", "iat", ...(options.requireJti ? ["jti"] : [])];
      try {
        const { payload } = await jwtVerify(token, config.keys, {
          issuer: config.issuer,
          audience: config.audience,
          algorithms: [...algorithms],
          clockTolerance,
          maxTokenAge,
          currentDate: new Date(clock.now()),
          requiredClaims,
        });
        if (typeof payload.sub !== "string" || payload.sub === "")
          return { ok: false, reason: "CLAIM_INVALID", detail: "sub is not a string" };
        // Keycloak's access tokens say `"typ": "Bearer"` in the payload; its ID, refresh and logout tokens say otherwise.
        if (payload.typ !== "Bearer") return { ok: false, reason: "NOT_ACCESS_TOKEN", detail: "payload typ is not Bearer" };
        if (options.requireJti && (typeof payload.jti !== "string" || payload.jti === "" || payload.jti.length > 256)) {
          return { ok: false, reason: "CLAIM_INVALID", detail: "jti is not a usable string" };
        }
        return { ok: true, token: { claims: payload as VerifiedToken["claims"], kid: pre.kid } };
      } catch (error) {
        return { ok: false, ...classify(error) };
      }
    },
  };
}
