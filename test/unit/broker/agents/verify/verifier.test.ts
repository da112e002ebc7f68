import { generateKeyPairSync } from "node:crypto";
import { SignJWT, exportJWK, createLocalJWKSet, type JWTVerifyGetKey } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { TokenRejection } from "../../../../../broker/agents/verify/rejection.ts";
import { createTokenVerifier, type TokenVerifier } from "../../../../../broker/agents/verify/verifier.ts";
import { AUDIENCE, ISSUER, NOW, claims, fixedClock, makeKeys, signRaw, type Keys } from "../../../../support/fixtures/agents.ts";

let keys: Keys;
let verifier: TokenVerifier;
/** Every key lookup the verifier makes: a refused token must not reach it. */
const lookups: string[] = [];

beforeAll(async () => {
  keys = await makeKeys();
  const countingKeys: JWTVerifyGetKey = (header, token) => {
    lookups.push(String(header.kid));
    return keys.jwks(header, token);
  };
  verifier = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: countingKeys }, fixedClock());
});

const header = { alg: "RS256", typ: "JWT", kid: "k1" };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

/** `text` with "A"s appended up to a length of 4n + 1: base64url of no whole number of bytes. */
const oneOver = (text: string) => text.padEnd(text.length + ((5 - (text.length % 4)) % 4 || 4), "A");

type Case = [string, () => string, TokenRejection, boolean];

describe("token verifier", () => {
  it("accepts a token signed by the trust domain's key", async () => {
    const result = await verifier.verify(signRaw(header, claims({ sub: "wl-billing" }), keys.rsa));
    expect(result.ok && result.token.claims.sub).toBe("wl-billing");
  });

  it("accepts an ES256 token when its key is in the JWKS", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: "ec1" }] });
    const es = createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: jwks }, fixedClock());
    const token = await new SignJWT(claims({ sub: "wl" })).setProtectedHeader({ alg: "ES256", kid: "ec1" }).sign(privateKey);
    expect((await es.verify(token)).ok).toBe(true);
  });

  // [name, token, reason, whether a key lookup may happen]
  it.each<Case>([
    ["alg none, empty signature", () => `${b64({ alg: "none", kid: "k1" })}.${b64(claims({ sub: "x" }))}.`, "MALFORMED", false],
    ["alg none with a signature", () => `${b64({ alg: "none", kid: "k1" })}.${b64(claims({ sub: "x" }))}.c2ln`, "ALG_NOT_ALLOWED", false],
    [
      "HS256 keyed with the public key",
      () => signRaw({ alg: "HS256", kid: "k1" }, claims({ sub: "x" }), keys.rsaPublic.export({ type: "spki", format: "pem" }).toString()),
      "ALG_NOT_ALLOWED",
      false,
    ],
    ["alg missing", () => signRaw({ kid: "k1" }, claims({ sub: "x" }), keys.rsa), "ALG_NOT_ALLOWED", false],
    [
      "jku header",
      () => signRaw({ ...header, jku: "https://attacker.example/jwks" }, claims({ sub: "x" }), keys.rsa),
      "HEADER_FORBIDDEN",
      false,
    ],
    [
      "x5u header",
      () => signRaw({ ...header, x5u: "https://attacker.example/cert" }, claims({ sub: "x" }), keys.rsa),
      "HEADER_FORBIDDEN",
      false,
    ],
    ["x5c header", () => signRaw({ ...header, x5c: ["MIIB"] }, claims({ sub: "x" }), keys.rsa), "HEADER_FORBIDDEN", false],
    ["embedded jwk header", () => signRaw({ ...header, jwk: keys.publicJwk }, claims({ sub: "x" }), keys.rsa), "HEADER_FORBIDDEN", false],
    ["crit header", () => signRaw({ ...header, crit: ["exp"] }, claims({ sub: "x" }), keys.rsa), "HEADER_FORBIDDEN", false],
    ["typ other than JWT", () => signRaw({ ...header, typ: "dpop+jwt" }, claims({ sub: "x" }), keys.rsa), "HEADER_FORBIDDEN", false],
    [
      "nested JWT (cty)",
      () => signRaw({ ...header, cty: "JWT" }, signRaw(header, claims({ sub: "x" }), keys.rsa), keys.rsa),
      "NESTED_JWT",
      false,
    ],
    ["nested JWT without cty", () => signRaw(header, signRaw(header, claims({ sub: "x" }), keys.rsa), keys.rsa), "MALFORMED", false],
    ["JWE (five parts)", () => "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d", "MALFORMED", false],
    ["kid missing", () => signRaw({ alg: "RS256" }, claims({ sub: "x" }), keys.rsa), "KID_INVALID", false],
    ["kid path traversal", () => signRaw({ alg: "RS256", kid: "../../etc/passwd" }, claims({ sub: "x" }), keys.rsa), "KID_INVALID", false],
    ["kid with dots", () => signRaw({ alg: "RS256", kid: "k1/../k2" }, claims({ sub: "x" }), keys.rsa), "KID_INVALID", false],
    ["kid URL", () => signRaw({ alg: "RS256", kid: "https://attacker.example/k" }, claims({ sub: "x" }), keys.rsa), "KID_INVALID", false],
    ["kid not a string", () => signRaw({ alg: "RS256", kid: 7 }, claims({ sub: "x" }), keys.rsa), "KID_INVALID", false],
    [
      "foreign issuer",
      () => signRaw(header, claims({ sub: "x", iss: "https://attacker.example/realms/td" }), keys.foreign),
      "ISSUER_UNTRUSTED",
      false,
    ],
    ["issuer with a trailing slash", () => signRaw(header, claims({ sub: "x", iss: `${ISSUER}/` }), keys.rsa), "ISSUER_UNTRUSTED", false],
    ["issuer missing", () => signRaw(header, claims({ sub: "x", iss: undefined }), keys.rsa), "ISSUER_UNTRUSTED", false],
    ["payload not JSON", () => `${b64(header)}.${Buffer.from("not json").toString("base64url")}.c2ln`, "MALFORMED", false],
    [
      "payload not UTF-8",
      () => `${b64(header)}.${Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString("base64url")}.c2ln`,
      "MALFORMED",
      false,
    ],
    ["payload of 4n+1 base64url characters", () => `${b64(header)}.${oneOver(b64(claims({ sub: "x" })))}.c2ln`, "MALFORMED", false],
    [
      "signature of 4n+1 base64url characters",
      () => {
        const [h, p, sig] = signRaw(header, claims({ sub: "x" }), keys.rsa).split(".");
        return `${h}.${p}.${oneOver(sig ?? "")}`;
      },
      "MALFORMED",
      false,
    ],
    ["unknown kid", () => signRaw({ ...header, kid: "k9" }, claims({ sub: "x" }), keys.rsa), "KEY_NOT_FOUND", true],
    ["signed by a foreign key with the trusted kid", () => signRaw(header, claims({ sub: "x" }), keys.foreign), "SIGNATURE_INVALID", true],
    ["expired", () => signRaw(header, claims({ sub: "x", iat: NOW / 1000 - 900, exp: NOW / 1000 - 60 }), keys.rsa), "EXPIRED", true],
    ["not yet valid", () => signRaw(header, claims({ sub: "x", nbf: NOW / 1000 + 600 }), keys.rsa), "NOT_YET_VALID", true],
    [
      "wrong audience (a token for AWS)",
      () => signRaw(header, claims({ sub: "x", aud: "sts.amazonaws.com" }), keys.rsa),
      "AUDIENCE_MISMATCH",
      true,
    ],
    ["no audience", () => signRaw(header, claims({ sub: "x", aud: undefined }), keys.rsa), "AUDIENCE_MISMATCH", true],
    ["no sub", () => signRaw(header, claims({}), keys.rsa), "CLAIM_INVALID", true],
    ["no exp", () => signRaw(header, claims({ sub: "x", exp: undefined }), keys.rsa), "CLAIM_INVALID", true],
  ])("refuses %s", async (_name, make, reason, mayLookUp) => {
    lookups.length = 0;
    const result = await verifier.verify(make());
    expect(result.ok ? "accepted" : result.reason).toBe(reason);
    if (!mayLookUp) expect(lookups).toEqual([]);
  });

  it("accepts a token within the clock tolerance after exp", async () => {
    const token = signRaw(header, claims({ sub: "x", iat: NOW / 1000 - 300, exp: NOW / 1000 - 20 }), keys.rsa);
    expect((await verifier.verify(token)).ok).toBe(true);
  });

  it("requires a jti for actor tokens", async () => {
    const token = signRaw(header, claims({ sub: "x", jti: undefined }), keys.rsa);
    expect((await verifier.verify(token)).ok).toBe(true);
    const result = await verifier.verify(token, { requireJti: true });
    expect(result.ok ? "accepted" : result.reason).toBe("CLAIM_INVALID");
  });

  it("reports a JWKS that cannot be fetched as the broker's problem, not the token's", async () => {
    const down = createTokenVerifier(
      { issuer: ISSUER, audience: AUDIENCE, keys: () => Promise.reject(new TypeError("fetch failed")) },
      fixedClock(),
    );
    const result = await down.verify(signRaw(header, claims({ sub: "x" }), keys.rsa));
    expect(result.ok ? "accepted" : result.reason).toBe("KEYS_UNAVAILABLE");
  });

  it.each([
    ["an http issuer", { issuer: "http://kc.example/realms/td" }],
    ["an empty audience", { audience: "" }],
    ["no algorithms", { algorithms: [] }],
  ])("refuses to be built with %s", (_name, bad) => {
    expect(() => createTokenVerifier({ issuer: ISSUER, audience: AUDIENCE, keys: keys.jwks, ...bad }, fixedClock())).toThrow(TypeError);
  });
});
