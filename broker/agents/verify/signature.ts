/**
 * The JWS signature of a token the pre-check accepted, verified with node:crypto against the key
 * the issuer's JWKS gave for it — as strict as jose's `jwtVerify` about the key: a public key of
 * the algorithm's family (RSASSA-PKCS1-v1_5 / RSA-PSS with the alg's hash, ECDSA on the alg's
 * curve), usable for `verify`, RSA of at least 2048 bits; an ECDSA signature is the JOSE form
 * (r ‖ s, exactly twice the curve's size). The check of a key is remembered per key and alg, and
 * the verification runs on libuv's thread pool (as WebCrypto's does), off the event loop.
 *
 * @example
 * const key = verificationKey("RS256", await jwks(header, token)); // a KeyObject, or why not
 * if (typeof key !== "string") ok = await verifySignature("RS256", key, token);
 */
import { constants, KeyObject, verify, type webcrypto } from "node:crypto";
import type { AsymmetricAlg } from "../ports.ts";

interface AlgParams {
  /** What a CryptoKey for this alg must say (jose's `checkCryptoKey`). */
  name: "RSASSA-PKCS1-v1_5" | "RSA-PSS" | "ECDSA";
  hash?: string;
  namedCurve?: string;
  /** The curve as node:crypto names it, for a KeyObject. */
  curve?: string;
  /** node:crypto's digest name. */
  digest: string;
  /** Bytes of an r ‖ s ECDSA signature. */
  signatureBytes?: number;
  saltLength?: number;
}

const rsa = (bits: number, pss: boolean): AlgParams => ({
  name: pss ? "RSA-PSS" : "RSASSA-PKCS1-v1_5",
  hash: `SHA-${bits}`,
  digest: `sha${bits}`,
  ...(pss ? { saltLength: bits / 8 } : {}),
});
const ec = (namedCurve: string, curve: string, bits: number, signatureBytes: number): AlgParams => ({
  name: "ECDSA",
  namedCurve,
  curve,
  digest: `sha${bits}`,
  signatureBytes,
});

const PARAMS: Record<AsymmetricAlg, AlgParams> = {
  RS256: rsa(256, false),
  RS384: rsa(384, false),
  RS512: rsa(512, false),
  PS256: rsa(256, true),
  PS384: rsa(384, true),
  PS512: rsa(512, true),
  ES256: ec("P-256", "prime256v1", 256, 64),
  ES384: ec("P-384", "secp384r1", 384, 96),
  ES512: ec("P-521", "secp521r1", 512, 132),
};

const MIN_RSA_BITS = 2048;

function isCryptoKey(key: unknown): key is webcrypto.CryptoKey {
  return typeof key === "object" && key !== null && (key as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === "CryptoKey";
}

/** Why `key` cannot verify `alg`, or undefined when it can. */
function unusable(alg: AsymmetricAlg, key: unknown): string | undefined {
  const params = PARAMS[alg];
  if (isCryptoKey(key)) {
    const algorithm = key.algorithm as { name: string; hash?: { name: string }; namedCurve?: string; modulusLength?: number };
    if (key.type !== "public") return "not a public key";
    if (algorithm.name !== params.name) return `algorithm is not ${params.name}`;
    if (params.hash !== undefined && algorithm.hash?.name !== params.hash) return `hash is not ${params.hash}`;
    if (params.namedCurve !== undefined && algorithm.namedCurve !== params.namedCurve) return `curve is not ${params.namedCurve}`;
    if (!key.usages.includes("verify")) return "usages do not include verify";
    if (params.name !== "ECDSA" && !((algorithm.modulusLength ?? 0) >= MIN_RSA_BITS)) return `RSA key under ${MIN_RSA_BITS} bits`;
    return undefined;
  }
  if (key instanceof KeyObject) {
    if (key.type !== "public") return "not a public key";
    const type = key.asymmetricKeyType;
    const details = key.asymmetricKeyDetails ?? {};
    if (params.name === "ECDSA")
      return type === "ec" && details.namedCurve === params.curve ? undefined : `not an EC key on ${params.namedCurve}`;
    if (!(type === "rsa" || (type === "rsa-pss" && params.name === "RSA-PSS"))) return "not an RSA key";
    return (details.modulusLength ?? 0) >= MIN_RSA_BITS ? undefined : `RSA key under ${MIN_RSA_BITS} bits`;
  }
  return "the key lookup gave neither a CryptoKey nor a KeyObject";
}

const checked = new WeakMap<object, Map<AsymmetricAlg, KeyObject | string>>();

/** The KeyObject to verify `alg` with, or why `key` (what the JWKS gave) cannot verify it. Remembered per key. */
export function verificationKey(alg: AsymmetricAlg, key: unknown): KeyObject | string {
  const byAlg = typeof key === "object" && key !== null ? checked.get(key) : undefined;
  const known = byAlg?.get(alg);
  if (known !== undefined) return known;
  const why = unusable(alg, key);
  const result = why ?? (isCryptoKey(key) ? KeyObject.from(key) : (key as KeyObject));
  if (typeof key === "object" && key !== null) {
    if (byAlg) byAlg.set(alg, result);
    else checked.set(key, new Map([[alg, result]]));
  }
  return result;
}

/**
 * Whether `signature` (base64url) signs `signingInput` (`<header>.<payload>`) with `key` for `alg`.
 * Never rejects: a signature node:crypto cannot even read is a signature that does not verify.
 */
export function verifySignature(alg: AsymmetricAlg, key: KeyObject, signingInput: string, signature: string): Promise<boolean> {
  const params = PARAMS[alg];
  const bytes = Buffer.from(signature, "base64url");
  if (params.signatureBytes !== undefined && bytes.length !== params.signatureBytes) return Promise.resolve(false);
  const options =
    params.name === "ECDSA"
      ? { key, dsaEncoding: "ieee-p1363" as const }
      : params.saltLength !== undefined
        ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: params.saltLength }
        : { key, padding: constants.RSA_PKCS1_PADDING };
  return new Promise((resolve) => {
    try {
      verify(params.digest, Buffer.from(signingInput, "latin1"), options, bytes, (error, ok) => resolve(error === null && ok));
    } catch {
      resolve(false);
    }
  });
}
