/** Real JWTs signed with keys generated at run time (never committed). */
import { generateKeyPair, SignJWT, type JWTPayload } from "jose";

export type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];

let rsa: Promise<SigningKey> | undefined;

export function rsaKey(): Promise<SigningKey> {
  rsa ??= generateKeyPair("RS256").then((k) => k.privateKey);
  return rsa;
}

export async function signToken(claims: JWTPayload, options: { alg?: string; key?: SigningKey } = {}): Promise<string> {
  const alg = options.alg ?? "RS256";
  const key = options.key ?? (alg === "RS256" ? await rsaKey() : (await generateKeyPair(alg)).privateKey);
  return new SignJWT(claims).setProtectedHeader({ alg, kid: "k1", typ: "JWT" }).sign(key);
}
