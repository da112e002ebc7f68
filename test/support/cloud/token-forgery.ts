/**
 * Test helper: the classic attacks on a real token, built from its own header and claims — re-signed
 * by a foreign key (same or unknown `kid`), `alg: none`, HS256 keyed with the issuer's public key,
 * a claim changed under the original signature.
 */
import { createPublicKey, createSign, generateKeyPairSync, type JsonWebKey } from "node:crypto";
import { SignJWT, type JWK } from "jose";

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } {
  const [h = "", p = "", s = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString("utf8")) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, "base64url").toString("utf8")) as Record<string, unknown>,
    signature: s,
  };
}

/** Re-signs the claims with a freshly generated RSA key; `kid` as given (`undefined` drops it). */
export function resignWithForeignKey(token: string, kid: string | undefined): string {
  const { header, payload } = parts(token);
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const newHeader: Record<string, unknown> = { ...header, alg: "RS256" };
  if (kid === undefined) delete newHeader.kid;
  else newHeader.kid = kid;
  const input = `${b64(newHeader)}.${b64(payload)}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(privateKey).toString("base64url")}`;
}

export function algNone(token: string): string {
  const { header, payload } = parts(token);
  return `${b64({ ...header, alg: "none" })}.${b64(payload)}.`;
}

/** HS256 keyed with the PEM of the issuer's published RSA key: the key-confusion attack. */
export async function hs256WithPublicKey(token: string, publicJwk: JWK): Promise<string> {
  const { header, payload } = parts(token);
  const pem = createPublicKey({ key: publicJwk as JsonWebKey, format: "jwk" }).export({ type: "spki", format: "pem" });
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", kid: header.kid as string }).sign(Buffer.from(pem));
}

/** Changes claims but keeps the original header and signature. */
export function tamper(token: string, claims: Record<string, unknown>): string {
  const { header, payload, signature } = parts(token);
  return `${b64(header)}.${b64({ ...payload, ...claims })}.${signature}`;
}

export function claimsOf(token: string): Record<string, unknown> {
  return parts(token).payload;
}

export function kidOf(token: string): string {
  return parts(token).header.kid as string;
}
