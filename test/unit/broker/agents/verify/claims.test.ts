import { createLocalJWKSet, errors, exportJWK, jwtVerify, type JWTPayload } from "jose";
import { generateKeyPairSync } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkClaims, type ClaimRules } from "../../../../../broker/agents/verify/claims.ts";
import type { TokenRejection } from "../../../../../broker/agents/verify/rejection.ts";
import { AUDIENCE, ISSUER, signRaw } from "../../../../support/fixtures/agents.ts";

const NOW_S = 1_772_366_400; // 2026-03-01T12:00:00Z
const RULES: ClaimRules = { audience: AUDIENCE, clockToleranceSeconds: 30, maxTokenAgeSeconds: 900, requireJti: false };
const good = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: ISSUER,
  aud: AUDIENCE,
  sub: "wl-billing",
  typ: "Bearer",
  iat: NOW_S - 10,
  exp: NOW_S + 290,
  jti: "jti-1",
  ...overrides,
});
const reason = (payload: Record<string, unknown>, rules: Partial<ClaimRules> = {}) => {
  const result = checkClaims(payload, { ...RULES, ...rules }, NOW_S);
  return result.ok ? "accepted" : result.reason;
};
const without = (name: string) => {
  const payload = good();
  delete payload[name];
  return payload;
};

describe("token claims", () => {
  it("accepts a fresh access token of the audience, in either form of aud", () => {
    expect(reason(good())).toBe("accepted");
    expect(reason(good({ aud: [AUDIENCE] }))).toBe("accepted");
    expect(reason(good({ nbf: NOW_S + 30 }))).toBe("accepted");
  });

  it.each<[string, Record<string, unknown>, TokenRejection]>([
    ["no aud", without("aud"), "AUDIENCE_MISMATCH"],
    ["another aud", good({ aud: "sts.amazonaws.com" }), "AUDIENCE_MISMATCH"],
    ["aud an array without it", good({ aud: ["sts.amazonaws.com"] }), "AUDIENCE_MISMATCH"],
    ["no iat", without("iat"), "CLAIM_INVALID"],
    ["no exp", without("exp"), "CLAIM_INVALID"],
    ["no sub", without("sub"), "CLAIM_INVALID"],
    ["iat a string", good({ iat: String(NOW_S) }), "CLAIM_INVALID"],
    ["exp null", good({ exp: null }), "CLAIM_INVALID"],
    ["nbf a string", good({ nbf: "0" }), "NOT_YET_VALID"],
    ["nbf beyond the tolerance", good({ nbf: NOW_S + 31 }), "NOT_YET_VALID"],
    ["exp at now − tolerance", good({ exp: NOW_S - 30 }), "EXPIRED"],
    ["iat older than 15 min + tolerance", good({ iat: NOW_S - 931 }), "TOO_OLD"],
    ["iat ahead beyond the tolerance", good({ iat: NOW_S + 31 }), "ISSUED_IN_FUTURE"],
    ["sub empty", good({ sub: "" }), "CLAIM_INVALID"],
    ["sub a number", good({ sub: 7 }), "CLAIM_INVALID"],
    ["an ID token", good({ typ: "ID" }), "NOT_ACCESS_TOKEN"],
    ["no typ", without("typ"), "NOT_ACCESS_TOKEN"],
  ])("refuses %s", (_name, payload, expected) => {
    expect(reason(payload)).toBe(expected);
  });

  it("accepts exp and iat at the edges of the tolerance", () => {
    expect(reason(good({ exp: NOW_S - 29 }))).toBe("accepted");
    expect(reason(good({ iat: NOW_S - 930 }))).toBe("accepted");
    expect(reason(good({ iat: NOW_S + 30 }))).toBe("accepted");
  });

  it("requires a usable jti when asked to (actor tokens)", () => {
    expect(reason(without("jti"))).toBe("accepted");
    expect(reason(without("jti"), { requireJti: true })).toBe("CLAIM_INVALID");
    expect(reason(good({ jti: "" }), { requireJti: true })).toBe("CLAIM_INVALID");
    expect(reason(good({ jti: 5 }), { requireJti: true })).toBe("CLAIM_INVALID");
    expect(reason(good({ jti: "x".repeat(257) }), { requireJti: true })).toBe("CLAIM_INVALID");
    expect(reason(good({ jti: "x".repeat(256) }), { requireJti: true })).toBe("accepted");
  });

  it("names the failed claim in the detail as jose did", () => {
    expect(checkClaims(without("aud"), RULES, NOW_S)).toEqual({ ok: false, reason: "AUDIENCE_MISMATCH", detail: "claim aud: missing" });
    expect(checkClaims(good({ nbf: NOW_S + 60 }), RULES, NOW_S)).toEqual({
      ok: false,
      reason: "NOT_YET_VALID",
      detail: "claim nbf: check_failed",
    });
  });
});

/** What jose's jwtVerify (with the options the verifier used to pass it) and the checks after it said of a payload. */
function joseVerdict(error: unknown): TokenRejection {
  if (error instanceof errors.JWTExpired) return error.claim === "iat" ? "TOO_OLD" : "EXPIRED";
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "aud") return "AUDIENCE_MISMATCH";
    if (error.claim === "nbf") return "NOT_YET_VALID";
    return error.claim === "iat" && error.reason === "check_failed" ? "ISSUED_IN_FUTURE" : "CLAIM_INVALID";
  }
  throw error;
}

describe("token claims against jose's jwtVerify (the judge)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const jwks = exportJWK(publicKey).then((jwk) => createLocalJWKSet({ keys: [{ ...jwk, kid: "k1" }] }));
  const time = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }).map((d) => NOW_S + d),
    fc.constantFrom<unknown>("1", null, true, undefined),
  );
  const payloads = fc.record(
    {
      iss: fc.constant(ISSUER),
      aud: fc.constantFrom<unknown>(AUDIENCE, [AUDIENCE], ["x", AUDIENCE], "sts.amazonaws.com", [], 7, undefined),
      sub: fc.constantFrom<unknown>("wl", "", 3, undefined),
      typ: fc.constantFrom<unknown>("Bearer", "ID", undefined),
      jti: fc.constantFrom<unknown>("j1", "", 9, undefined),
      iat: time,
      exp: time,
      nbf: time,
    },
    { requiredKeys: ["iss"] },
  );

  it("gives the reason jose's verification gave, for any mix of claims", async () => {
    const keys = await jwks;
    await fc.assert(
      fc.asyncProperty(payloads, fc.boolean(), async (raw, requireJti) => {
        const payload = JSON.parse(JSON.stringify(raw)) as JWTPayload;
        const token = signRaw({ alg: "RS256", kid: "k1" }, payload, privateKey);
        let expected: TokenRejection | "accepted";
        try {
          const verified = await jwtVerify(token, keys, {
            issuer: ISSUER,
            audience: AUDIENCE,
            algorithms: ["RS256"],
            clockTolerance: 30,
            maxTokenAge: 900,
            currentDate: new Date(NOW_S * 1000),
            requiredClaims: ["iss", "sub", "exp", "iat", ...(requireJti ? ["jti"] : [])],
          });
          const p = verified.payload;
          expected =
            typeof p.sub !== "string" || p.sub === ""
              ? "CLAIM_INVALID"
              : p.typ !== "Bearer"
                ? "NOT_ACCESS_TOKEN"
                : requireJti && (typeof p.jti !== "string" || p.jti === "" || p.jti.length > 256)
                  ? "CLAIM_INVALID"
                  : "accepted";
        } catch (error) {
          expected = joseVerdict(error);
        }
        expect(reason(payload as Record<string, unknown>, { requireJti })).toBe(expected);
      }),
      { numRuns: 1000 },
    );
  });
});
