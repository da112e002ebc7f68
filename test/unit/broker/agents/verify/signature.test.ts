import { createSign, generateKeyPairSync, sign, webcrypto, type KeyObject } from "node:crypto";
import { CompactSign, exportJWK, importJWK } from "jose";
import { describe, expect, it } from "vitest";
import type { AsymmetricAlg } from "../../../../../broker/agents/ports.ts";
import { verificationKey, verifySignature } from "../../../../../broker/agents/verify/signature.ts";

const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
const p256 = generateKeyPairSync("ec", { namedCurve: "P-256" });
const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" });
const p521 = generateKeyPairSync("ec", { namedCurve: "P-521" });
const INPUT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0";

/** A CryptoKey as jose's JWKS sets import it: from the public JWK, for the token's alg. */
async function jwksKey(publicKey: KeyObject, alg: AsymmetricAlg): Promise<unknown> {
  return importJWK({ ...(await exportJWK(publicKey)), alg }, alg);
}

/** `<input>.<signature>` signed by jose (the form jose itself verifies). */
async function joseSigned(alg: AsymmetricAlg, privateKey: KeyObject, payload = "eyJzdWIiOiJ4In0"): Promise<[string, string]> {
  const jws = await new CompactSign(Buffer.from(payload, "base64url")).setProtectedHeader({ alg }).sign(privateKey);
  const dot = jws.lastIndexOf(".");
  return [jws.slice(0, dot), jws.slice(dot + 1)];
}

async function verifies(alg: AsymmetricAlg, key: unknown, input: string, signature: string): Promise<boolean | string> {
  const usable = verificationKey(alg, key);
  return typeof usable === "string" ? usable : verifySignature(alg, usable, input, signature);
}

describe("JWS signature with node:crypto", () => {
  it.each<[AsymmetricAlg, KeyObject, KeyObject]>([
    ["RS256", rsa.privateKey, rsa.publicKey],
    ["RS384", rsa.privateKey, rsa.publicKey],
    ["RS512", rsa.privateKey, rsa.publicKey],
    ["PS256", rsa.privateKey, rsa.publicKey],
    ["PS384", rsa.privateKey, rsa.publicKey],
    ["PS512", rsa.privateKey, rsa.publicKey],
    ["ES256", p256.privateKey, p256.publicKey],
    ["ES384", p384.privateKey, p384.publicKey],
    ["ES512", p521.privateKey, p521.publicKey],
  ])("verifies what jose signs with %s, and nothing else", async (alg, privateKey, publicKey) => {
    const [input, signature] = await joseSigned(alg, privateKey);
    for (const key of [await jwksKey(publicKey, alg), publicKey]) {
      expect(await verifies(alg, key, input, signature)).toBe(true);
      expect(await verifies(alg, key, `${input}x`, signature)).toBe(false);
      const flipped = Buffer.from(signature, "base64url");
      flipped[5] = (flipped[5] ?? 0) ^ 1;
      expect(await verifies(alg, key, input, flipped.toString("base64url"))).toBe(false);
    }
  });

  it("refuses an ECDSA signature in DER form (JOSE signatures are r ‖ s) and one of the wrong length", async () => {
    const der = sign("sha256", Buffer.from(INPUT), p256.privateKey).toString("base64url");
    const key = await jwksKey(p256.publicKey, "ES256");
    expect(await verifies("ES256", key, INPUT, der)).toBe(false);
    const [input, signature] = await joseSigned("ES256", p256.privateKey);
    const longer = Buffer.concat([Buffer.from(signature, "base64url"), Buffer.alloc(1)]).toString("base64url");
    expect(await verifies("ES256", key, input, longer)).toBe(false);
  });

  it("never rejects on a signature node:crypto cannot read", async () => {
    const key = verificationKey("RS256", rsa.publicKey);
    if (typeof key === "string") throw new Error(key);
    expect(await verifySignature("RS256", key, INPUT, "")).toBe(false);
    expect(await verifySignature("RS256", key, INPUT, "AAAA")).toBe(false);
  });

  it.each<[string, AsymmetricAlg, () => Promise<unknown>, string]>([
    ["a private key", "RS256", () => Promise.resolve(rsa.privateKey), "not a public key"],
    [
      "a private CryptoKey",
      "RS256",
      async () => importJWK({ ...(await exportJWK(rsa.privateKey)), alg: "RS256" }, "RS256"),
      "not a public key",
    ],
    ["an RSASSA-PKCS1 key for PS256", "PS256", () => jwksKey(rsa.publicKey, "RS256"), "algorithm is not RSA-PSS"],
    ["an RS384 key for RS256", "RS256", () => jwksKey(rsa.publicKey, "RS384"), "hash is not SHA-256"],
    ["a P-384 CryptoKey for ES256", "ES256", () => jwksKey(p384.publicKey, "ES384"), "curve is not P-256"],
    ["a P-384 KeyObject for ES256", "ES256", () => Promise.resolve(p384.publicKey), "not an EC key on P-256"],
    ["an EC KeyObject for RS256", "RS256", () => Promise.resolve(p256.publicKey), "not an RSA key"],
    [
      "an RSA key of 1024 bits",
      "RS256",
      () => Promise.resolve(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey),
      "RSA key under 2048 bits",
    ],
    [
      "a 1024-bit CryptoKey",
      "RS256",
      () => jwksKey(generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey, "RS256"),
      "RSA key under 2048 bits",
    ],
    [
      "a CryptoKey not for verify",
      "RS256",
      async () =>
        webcrypto.subtle.importKey("jwk", await exportJWK(rsa.publicKey), { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, []),
      "usages do not include verify",
    ],
    ["a JWK object", "RS256", async () => exportJWK(rsa.publicKey), "the key lookup gave neither a CryptoKey nor a KeyObject"],
    ["a shared secret", "RS256", () => Promise.resolve(new Uint8Array(32)), "the key lookup gave neither a CryptoKey nor a KeyObject"],
  ])("refuses %s as the key", async (_name, alg, key, why) => {
    expect(verificationKey(alg, await key())).toBe(why);
  });

  it("checks a key once per alg and remembers the answer", async () => {
    const key = await jwksKey(rsa.publicKey, "RS256");
    const first = verificationKey("RS256", key);
    expect(typeof first).not.toBe("string");
    expect(verificationKey("RS256", key)).toBe(first);
    expect(verificationKey("RS384", key)).toBe("hash is not SHA-384");
    const signed = createSign("RSA-SHA256").update(INPUT).sign(rsa.privateKey).toString("base64url");
    expect(await verifies("RS256", key, INPUT, signed)).toBe(true);
  });
});
