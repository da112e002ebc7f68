/**
 * Verifies subject and actor tokens, decoding each once: the offline {@link precheckToken} (shape,
 * header, `iss` pinned; the only decode), then the key for its `kid` and `alg` from the issuer's
 * JWKS (`config.keys`, jose's JWKS set), the signature with node:crypto ({@link verifySignature}:
 * as strict as jose about the key), then the claims on the pre-check's payload ({@link checkClaims}:
 * jose's `jwtVerify` rules with the broker's audience, an explicit clock tolerance, a maximum age
 * that also refuses an `iat` ahead of the clock, the injected clock; then `sub`, the payload's `typ`
 * `Bearer` — an access token, not an ID or refresh token — and, for actor tokens, `jti`).
 * Never throws: a refusal is a value with a reason code.
 */
import { errors, type CompactJWSHeaderParameters } from "jose";
import type { Clock } from "../../clock.ts";
import { DEFAULT_MAX_TOKEN_AGE_SECONDS, type AsymmetricAlg, type TokenVerifierConfig } from "../ports.ts";
import { checkClaims, type ClaimRules, type VerifiedClaims } from "./claims.ts";
import { precheckToken } from "./precheck.ts";
import type { TokenRejection } from "./rejection.ts";
import { verificationKey, verifySignature } from "./signature.ts";

export const DEFAULT_ALGORITHMS: readonly AsymmetricAlg[] = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"];

export interface VerifiedToken {
  /** All claims, with `iss`, `sub`, `exp`, `iat` (and `jti` when required) present. */
  claims: VerifiedClaims;
  kid: string;
}

export type VerifyResult = { ok: true; token: VerifiedToken } | { ok: false; reason: TokenRejection; detail: string };

export interface TokenVerifier {
  /** `requireJti`: actor tokens must carry a `jti` (replay protection). */
  verify(token: string, options?: { requireJti?: boolean }): Promise<VerifyResult>;
}

/** Why the key lookup failed: the token's `kid` is not in the JWKS, or the JWKS could not be had. */
function keyLookupFailure(error: unknown): { reason: TokenRejection; detail: string } {
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return { reason: "KEY_NOT_FOUND", detail: "kid not in the issuer's JWKS" };
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
  const clockToleranceSeconds = config.clockToleranceSeconds ?? 30;
  const maxTokenAgeSeconds = config.maxTokenAgeSeconds ?? DEFAULT_MAX_TOKEN_AGE_SECONDS;
  if (!(maxTokenAgeSeconds > 0)) throw new TypeError("maxTokenAgeSeconds must be positive");
  const rules = (requireJti: boolean): ClaimRules => ({ audience: config.audience, clockToleranceSeconds, maxTokenAgeSeconds, requireJti });
  const actorRules = rules(true);
  const subjectRules = rules(false);

  return {
    async verify(token, options = {}) {
      const pre = precheckToken(token, config.issuer, algorithms);
      if (!pre.ok) return pre;
      const { segments } = pre;
      let found: unknown;
      try {
        // The header is jose's shape: an object whose `alg` (a string) and `kid` the pre-check checked.
        found = await config.keys(pre.header as CompactJWSHeaderParameters, segments);
      } catch (error) {
        return { ok: false, ...keyLookupFailure(error) };
      }
      const key = verificationKey(pre.alg, found);
      if (typeof key === "string") return { ok: false, reason: "KEYS_UNAVAILABLE", detail: `JWKS key unusable for ${pre.alg}: ${key}` };
      const signingInput = token.slice(0, segments.protected.length + 1 + segments.payload.length);
      if (!(await verifySignature(pre.alg, key, signingInput, segments.signature)))
        return { ok: false, reason: "SIGNATURE_INVALID", detail: "signature does not verify" };
      const claims = checkClaims(pre.payload, options.requireJti ? actorRules : subjectRules, Math.floor(clock.now() / 1000));
      return claims.ok ? { ok: true, token: { claims: claims.claims, kid: pre.kid } } : claims;
    },
  };
}
