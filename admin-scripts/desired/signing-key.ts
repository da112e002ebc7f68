/**
 * What realm-sync knows of a signing key: its public certificate, nothing more. Every Keycloak
 * server loads the private key itself (the `java-keystore` key provider); realm-sync derives from the
 * committed certificate what every cluster must publish (`kid`, `n`/`e`, `x5c`) and compares.
 */
import { createHash, X509Certificate } from "node:crypto";

const MIN_BITS = 2048;

export interface CertificateMaterial {
  /** Base64 DER of the certificate (no PEM armour), as Keycloak publishes it in `x5c`. */
  certificate: string;
  /** The `kid` realm-sync gives the key on every cluster: base64url(SHA-256(SubjectPublicKeyInfo DER)), Keycloak's own formula for imported keys. */
  kid: string;
  /** The public key as a JWK (`kty`, `n`, `e`). */
  publicJwk: { kty: "RSA"; n: string; e: string };
  bits: number;
  /** The certificate's `notAfter`. */
  validTo: Date;
}

/** Thrown for a certificate that is not an RSA certificate Keycloak can publish for RS256. */
export class SigningKeyError extends Error {
  override readonly name = "SigningKeyError";
}

/** Keycloak's key id for imported keys: `KeyUtils.createKeyId` hashes the encoded public key with SHA-256. */
export function keycloakKid(spkiDer: Uint8Array): string {
  return createHash("sha256").update(spkiDer).digest("base64url");
}

/**
 * Reads a PEM X.509 certificate and derives what every cluster must publish for it. Deterministic:
 * the same certificate gives the same output on every run and every machine.
 */
export function certificateMaterial(pem: string, now = new Date()): CertificateMaterial {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch (cause) {
    throw new SigningKeyError("not a PEM X.509 certificate (-----BEGIN CERTIFICATE-----)", { cause });
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== "rsa")
    throw new SigningKeyError(`an RSA key is required, got ${key.asymmetricKeyType ?? "another key type"}`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_BITS) throw new SigningKeyError(`an RSA key of at least ${MIN_BITS} bits is required, got ${bits}`);
  const validTo = new Date(cert.validTo);
  // Keycloak validates the certificate when it loads the keystore: an expired one is refused.
  if (validTo.getTime() <= now.getTime()) throw new SigningKeyError(`the certificate expired on ${validTo.toISOString()}`);
  const spki = key.export({ type: "spki", format: "der" });
  const jwk = key.export({ format: "jwk" }) as { n: string; e: string };
  return { certificate: cert.raw.toString("base64"), kid: keycloakKid(spki), publicJwk: { kty: "RSA", n: jwk.n, e: jwk.e }, bits, validTo };
}
