import { describe, expect, it } from "vitest";
import { checkTokenResponse } from "../../../../broker/token-source/check-token.ts";
import type { BrokerError } from "../../../../broker/errors.ts";
import { signToken } from "../../../support/fixtures/tokens.ts";

const ISSUER = "https://kc.example.com/realms/prod";
const AUD = "sts.amazonaws.com";
const NOW = Date.parse("2030-01-01T00:00:00Z");
const nowS = NOW / 1000;
const good = { iss: ISSUER, aud: AUD, sub: "workload:payments", iat: nowS, exp: nowS + 600 };

async function failure(claims: Record<string, unknown>, extra: Record<string, unknown> = {}, alg?: string): Promise<BrokerError> {
  const token = await signToken(claims, alg ? { alg } : {});
  try {
    checkTokenResponse(
      { access_token: token, token_type: "Bearer", expires_in: 600, ...extra },
      { issuer: ISSUER, audience: AUD, now: NOW },
    );
  } catch (e) {
    return e as BrokerError;
  }
  throw new Error("expected a failure");
}

describe("checkTokenResponse", () => {
  it("returns the token and the earlier of exp and expires_in", async () => {
    const token = await signToken(good);
    expect(
      checkTokenResponse({ access_token: token, token_type: "bearer", expires_in: 300 }, { issuer: ISSUER, audience: AUD, now: NOW }),
    ).toEqual({
      token,
      expiresAt: new Date(NOW + 300_000),
    });
    expect(
      checkTokenResponse({ access_token: token, token_type: "Bearer" }, { issuer: ISSUER, audience: AUD, now: NOW }).expiresAt,
    ).toEqual(new Date(NOW + 600_000));
  });

  it("accepts an aud array holding exactly the audience", async () => {
    const token = await signToken({ ...good, aud: [AUD] });
    expect(checkTokenResponse({ access_token: token, token_type: "Bearer" }, { issuer: ISSUER, audience: AUD, now: NOW }).token).toBe(
      token,
    );
  });

  it.each<[string, Record<string, unknown>, Record<string, unknown>, string | undefined, RegExp]>([
    ["another issuer", { ...good, iss: "https://evil.example/realms/prod" }, {}, undefined, /has iss/],
    ["a missing audience (client scope not assigned)", { ...good, aud: undefined }, {}, undefined, /has aud undefined, expected exactly/],
    ["an extra audience", { ...good, aud: [AUD, "account"] }, {}, undefined, /has aud/],
    ["the other cloud's audience", { ...good, aud: "api://AzureADTokenExchange" }, {}, undefined, /has aud/],
    ["no sub", { ...good, sub: undefined }, {}, undefined, /no sub/],
    ["no exp", { ...good, exp: undefined }, {}, undefined, /no integer exp/],
    ["a fractional exp", { ...good, exp: nowS + 600.5 }, {}, undefined, /no integer exp/],
    ["an expired exp", { ...good, exp: nowS - 1 }, {}, undefined, /expired/],
    ["an HS256 signature", good, {}, "HS256", /signed with HS256/],
    ["a PS256 signature (STS refuses it)", good, {}, "PS256", /signed with PS256/],
    ["a token type other than Bearer", good, { token_type: "DPoP" }, undefined, /not of type Bearer/],
  ])("refuses %s", async (_what, claims, extra, alg, message) => {
    const error = await (alg === "HS256" ? hs256Failure(claims) : failure(claims, extra, alg));
    expect(error.code).toBe("KEYCLOAK_INVALID_TOKEN");
    expect(error.message).toMatch(message);
  });

  it.each([["not-a-jwt"], ["a.b.c"], [42]])("refuses an access_token %j that is not a JWT", (accessToken) => {
    expect(() =>
      checkTokenResponse({ access_token: accessToken, token_type: "Bearer" }, { issuer: ISSUER, audience: AUD, now: NOW }),
    ).toThrow(expect.objectContaining({ code: "KEYCLOAK_INVALID_TOKEN" }) as Error);
  });
});

async function hs256Failure(claims: Record<string, unknown>): Promise<BrokerError> {
  const { SignJWT } = await import("jose");
  const token = await new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(new Uint8Array(32).fill(7));
  try {
    checkTokenResponse({ access_token: token, token_type: "Bearer" }, { issuer: ISSUER, audience: AUD, now: NOW });
  } catch (e) {
    return e as BrokerError;
  }
  throw new Error("expected a failure");
}
