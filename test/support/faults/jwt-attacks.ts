/**
 * The classic JWT attacks, built from a real token's claims with real keys: the realm's own signing
 * key (so only the attack, never the signature, is what must be refused), an attacker's key, and
 * the realm's public key misused as an HMAC secret. Each attack is data (`name`, `build`), so the
 * integration test and the benchmark's long run use the same catalogue.
 */
import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from "node:crypto";
import { CompactEncrypt, exportJWK, type JWK } from "jose";

const b64 = (value: unknown): string => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** A compact JWS with exactly this header and payload (no library in the way), signed per `header.alg`. */
export function signRaw(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | string,
  key: KeyObject | string | Buffer | undefined,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = String(header.alg);
  if (key === undefined || alg.toLowerCase() === "none") return `${input}.`;
  if (alg.startsWith("HS"))
    return `${input}.${createHmac(`sha${alg.slice(2)}`, key)
      .update(input)
      .digest("base64url")}`;
  return `${input}.${sign(`sha${alg.slice(2)}`, Buffer.from(input), key).toString("base64url")}`;
}

export interface AttackKeys {
  /** The realm's active signing key (what Keycloak signs with) and its kid. */
  realm: { privateKey: KeyObject; kid: string };
  /** A key the trust domain has never heard of. */
  attacker: { privateKey: KeyObject; kid: string; jwk: JWK };
}

/** A fresh attacker key; `jwk` is its public half as an attacker would publish it. */
export async function attackerKey(): Promise<AttackKeys["attacker"]> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `attacker-${randomUUID().slice(0, 8)}`;
  return { privateKey, kid, jwk: { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" } };
}

/** Fresh claims from a real token's: same iss/sub/aud/azp, new iat/exp/jti. */
export function refreshClaims(claims: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { ...claims, iat: now, exp: now + 300, jti: randomUUID(), ...extra };
}

export interface JwtAttack {
  name: string;
  /** A token for the claims, forged this way. */
  build(claims: Record<string, unknown>, keys: AttackKeys, ctx: { recorderUrl: string; innerToken: string }): Promise<string> | string;
}

const rs = (keys: AttackKeys, extra: Record<string, unknown> = {}) => ({ alg: "RS256", typ: "JWT", kid: keys.realm.kid, ...extra });

/** The realm key's public half as the PEM an attacker would download and misuse as an HMAC secret. */
function realmPublicPem(keys: AttackKeys): string {
  return createPublicKey(keys.realm.privateKey).export({ type: "spki", format: "pem" }).toString();
}

export const JWT_ATTACKS: readonly JwtAttack[] = [
  { name: "alg none", build: (c, k) => signRaw({ alg: "none", typ: "JWT", kid: k.realm.kid }, refreshClaims(c), undefined) },
  { name: "alg None", build: (c, k) => signRaw({ alg: "None", typ: "JWT", kid: k.realm.kid }, refreshClaims(c), undefined) },
  {
    name: "alg NONE with a signature kept",
    build: (c, k) =>
      `${signRaw({ alg: "NONE", kid: k.realm.kid }, refreshClaims(c), undefined)}${signRaw(rs(k), refreshClaims(c), k.realm.privateKey).split(".")[2]}`,
  },
  {
    name: "HS256 keyed with the realm's public key (PEM)",
    build: (c, k) => signRaw({ alg: "HS256", typ: "JWT", kid: k.realm.kid }, refreshClaims(c), realmPublicPem(k)),
  },
  {
    name: "HS256 keyed with the realm's public key (JWK JSON)",
    build: async (c, k) =>
      signRaw(
        { alg: "HS256", typ: "JWT", kid: k.realm.kid },
        refreshClaims(c),
        JSON.stringify(await exportJWK(createPublicKey(k.realm.privateKey))),
      ),
  },
  {
    name: "unknown kid, attacker's key",
    build: (c, k) => signRaw({ alg: "RS256", typ: "JWT", kid: k.attacker.kid }, refreshClaims(c), k.attacker.privateKey),
  },
  { name: "no kid, attacker's key", build: (c, k) => signRaw({ alg: "RS256", typ: "JWT" }, refreshClaims(c), k.attacker.privateKey) },
  {
    name: "kid path traversal to /dev/null, HS256 with an empty key",
    build: (c) => signRaw({ alg: "HS256", typ: "JWT", kid: "../../../../../../../dev/null" }, refreshClaims(c), ""),
  },
  {
    name: "kid absolute path, HS256 with an empty key",
    build: (c) => signRaw({ alg: "HS256", typ: "JWT", kid: "/dev/null" }, refreshClaims(c), ""),
  },
  {
    name: "kid = realm kid + traversal, realm key",
    build: (c, k) => signRaw(rs(k, { kid: `${k.realm.kid}/../../${k.realm.kid}` }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "kid with SQL, HS256 keyed 'key'",
    build: (c) => signRaw({ alg: "HS256", typ: "JWT", kid: "x' UNION SELECT 'key" }, refreshClaims(c), "key"),
  },
  {
    name: "kid with a NUL byte, realm key",
    build: (c, k) => signRaw(rs(k, { kid: `${k.realm.kid}\u0000` }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "jku to the attacker's JWKS, attacker's key",
    build: (c, k, x) =>
      signRaw(
        { alg: "RS256", typ: "JWT", kid: k.attacker.kid, jku: `${x.recorderUrl}/jwks.json` },
        refreshClaims(c),
        k.attacker.privateKey,
      ),
  },
  {
    name: "jku on a token signed by the realm key",
    build: (c, k, x) => signRaw(rs(k, { jku: `${x.recorderUrl}/jwks.json` }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "x5u to the attacker's certificate, attacker's key",
    build: (c, k, x) =>
      signRaw({ alg: "RS256", typ: "JWT", kid: k.attacker.kid, x5u: `${x.recorderUrl}/cert.pem` }, refreshClaims(c), k.attacker.privateKey),
  },
  {
    name: "x5u on a token signed by the realm key",
    build: (c, k, x) => signRaw(rs(k, { x5u: `${x.recorderUrl}/cert.pem` }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "x5c with an attacker certificate, attacker's key",
    build: (c, k) =>
      signRaw(
        { alg: "RS256", typ: "JWT", x5c: [Buffer.from(`attacker-${k.attacker.kid}`).toString("base64")] },
        refreshClaims(c),
        k.attacker.privateKey,
      ),
  },
  {
    name: "x5c on a token signed by the realm key",
    build: (c, k) => signRaw(rs(k, { x5c: ["MIIBszCCAVmgAwIBAgIU"] }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "embedded jwk of the attacker, attacker's key",
    build: (c, k) => signRaw({ alg: "RS256", typ: "JWT", jwk: k.attacker.jwk }, refreshClaims(c), k.attacker.privateKey),
  },
  { name: "crit naming exp, realm key", build: (c, k) => signRaw(rs(k, { crit: ["exp"] }), refreshClaims(c), k.realm.privateKey) },
  {
    name: "crit naming an unknown extension, realm key",
    build: (c, k) =>
      signRaw(rs(k, { crit: ["https://evil.example/ext"], "https://evil.example/ext": true }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "b64 false (RFC 7797), realm key",
    build: (c, k) => signRaw(rs(k, { b64: false, crit: ["b64"] }), refreshClaims(c), k.realm.privateKey),
  },
  {
    name: "nested JWT (cty JWT) around a valid token, realm key",
    build: (_c, k, x) => signRaw(rs(k, { cty: "JWT" }), x.innerToken, k.realm.privateKey),
  },
  {
    name: "nested JWT under alg none",
    build: (_c, k, x) => signRaw({ alg: "none", cty: "JWT", kid: k.realm.kid }, x.innerToken, undefined),
  },
  {
    name: "JWE encrypted to the realm's public key",
    build: async (c, k) =>
      new CompactEncrypt(Buffer.from(JSON.stringify(refreshClaims(c))))
        .setProtectedHeader({ alg: "RSA-OAEP-256", enc: "A256GCM", kid: k.realm.kid })
        .encrypt(createPublicKey(k.realm.privateKey)),
  },
  { name: "typ other than JWT, realm key", build: (c, k) => signRaw(rs(k, { typ: "dpop+jwt" }), refreshClaims(c), k.realm.privateKey) },
  {
    name: "signature stripped",
    build: (c, k) => `${signRaw(rs(k), refreshClaims(c), k.realm.privateKey).split(".").slice(0, 2).join(".")}.`,
  },
  {
    name: "signature of another token",
    build: (c, k) =>
      `${signRaw(rs(k), refreshClaims(c), k.realm.privateKey).split(".").slice(0, 2).join(".")}.${signRaw(rs(k), refreshClaims(c), k.realm.privateKey).split(".")[2]}`,
  },
  {
    name: "oversized (10 KiB claim), realm key",
    build: (c, k) => signRaw(rs(k), refreshClaims(c, { pad: "x".repeat(10 * 1024) }), k.realm.privateKey),
  },
  {
    name: "expired an hour ago, realm key",
    build: (c, k) =>
      signRaw(
        rs(k),
        refreshClaims(c, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
        k.realm.privateKey,
      ),
  },
  {
    name: "another issuer, realm key",
    build: (c, k) => signRaw(rs(k), refreshClaims(c, { iss: `${String(c.iss)}-evil` }), k.realm.privateKey),
  },
];
