/**
 * The JWT steps both clouds share, kept free of any policy: split and decode a compact JWS
 * (RFC 7515 §7.1), pick candidate keys from a JWKS by `kid` and key type, check one signature.
 * What to do with each failure (which error code) is each emulator's own decision.
 */
import { compactVerify, importJWK, type JWK, type JSONWebKeySet } from "jose";
import { isRecord } from "./issuer-keys.ts";

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

/** The algorithms real STS accepts for web-identity tokens (AssumeRoleWithWebIdentity, `WebIdentityToken`). */
export const ASYMMETRIC_ALGS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"] as const;

/** Decodes header and payload without verifying anything; `undefined` when it is not a compact JWS with JSON objects. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split(".");
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0] ?? "", "base64url").toString("utf8")) as unknown;
    const payload = JSON.parse(Buffer.from(parts[1] ?? "", "base64url").toString("utf8")) as unknown;
    if (!isRecord(header) || !isRecord(payload)) return undefined;
    return { header, payload };
  } catch {
    return undefined;
  }
}

function ktyFor(alg: string): string {
  return alg.startsWith("ES") ? "EC" : "RSA";
}

/**
 * Keys of `jwks` that may have signed a token with this header: same `kid` when the header has one
 * (otherwise every key), right key type, not marked for encryption, `alg` equal when the key names one.
 */
export function candidateKeys(jwks: JSONWebKeySet, alg: string, kid: string | undefined): JWK[] {
  return jwks.keys.filter(
    (k) => (kid === undefined || k.kid === kid) && k.kty === ktyFor(alg) && k.use !== "enc" && (k.alg === undefined || k.alg === alg),
  );
}

/** Whether `token` carries a valid signature by `jwk` under `alg`. Never throws. */
export async function signatureValid(token: string, jwk: JWK, alg: string): Promise<boolean> {
  try {
    const key = await importJWK(jwk, alg);
    await compactVerify(token, key, { algorithms: [alg] });
    return true;
  } catch {
    return false;
  }
}

/** Whether the value is an integer NumericDate (RFC 7519 §2), as AWS requires of `exp`, `nbf`, `iat`. */
export function isIntegerDate(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}
