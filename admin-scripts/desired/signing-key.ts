/**
 * What a configured signing key becomes in Keycloak: an imported `rsa` key provider whose private
 * key, certificate and `kid` are identical on every cluster.
 *
 * Keycloak generates a self-signed certificate when none is given, with a random serial and the
 * current time, so the `x5c`/`x5t#S256` published in the JWKS would differ per cluster. Instead the
 * certificate is derived from the key alone: fixed validity, serial from the key's hash, subject
 * from the realm. RSASSA-PKCS1-v1_5 signatures are deterministic, so the same key always yields the
 * same DER bytes.
 */
import "reflect-metadata";
import { createHash, createPrivateKey, createPublicKey, webcrypto, X509Certificate } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const NOT_BEFORE = new Date(Date.UTC(2020, 0, 1));
const NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
const MIN_BITS = 2048;
/**
 * Keycloak drops unknown config keys of key providers, so realm-sync's marker cannot live in the
 * component's config; it lives in the certificate's subject instead (the certificate is ours anyway).
 */
const MANAGED_OU = "kcb.managed-by realm-sync";

/** Whether a key provider's certificate (base64 DER) is one realm-sync derived: its keys are realm-sync's to change. */
export function isManagedCertificate(base64Der: string | undefined): boolean {
  if (!base64Der) return false;
  try {
    return new X509Certificate(Buffer.from(base64Der, "base64")).subject.split("\n").includes(`OU=${MANAGED_OU}`);
  } catch {
    return false;
  }
}

export interface SigningKeyMaterial {
  /** PKCS#8 PEM, as Keycloak's `rsa` provider takes it. */
  privateKeyPem: string;
  /** Base64 DER of the derived self-signed certificate (no PEM armour), as Keycloak stores it. */
  certificate: string;
  /** The `kid` Keycloak computes for this key: base64url(SHA-256(SubjectPublicKeyInfo DER)). */
  kid: string;
  /** The public key as a JWK (`kty`, `n`, `e`). */
  publicJwk: { kty: "RSA"; n: string; e: string };
  bits: number;
}

/** Thrown for a key that is not an RSA private key Keycloak can sign RS256 with. */
export class SigningKeyError extends Error {
  override readonly name = "SigningKeyError";
}

/** Keycloak's key id: `KeyUtils.createKeyId` hashes the encoded public key with SHA-256. */
export function keycloakKid(spkiDer: Uint8Array): string {
  return createHash("sha256").update(spkiDer).digest("base64url");
}

/**
 * Derives the certificate and `kid` for a PEM private key (PKCS#8 or PKCS#1). Deterministic: the
 * same key and realm give byte-identical output on every run and every machine.
 */
export async function signingKeyMaterial(pem: string, realm: string): Promise<SigningKeyMaterial> {
  let keyObject;
  try {
    keyObject = createPrivateKey(pem);
  } catch (cause) {
    throw new SigningKeyError("not a PEM private key", { cause });
  }
  if (keyObject.asymmetricKeyType !== "rsa") throw new SigningKeyError(`an RSA key is required, got ${keyObject.asymmetricKeyType ?? "a symmetric key"}`);
  const bits = keyObject.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_BITS) throw new SigningKeyError(`an RSA key of at least ${MIN_BITS} bits is required, got ${bits}`);

  const pkcs8 = keyObject.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(keyObject).export({ type: "spki", format: "der" });
  const jwk = createPublicKey(keyObject).export({ format: "jwk" }) as { n: string; e: string };

  const privateKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, ALG, false, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, ALG, true, ["verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: createHash("sha256").update(spki).digest("hex").slice(0, 30),
    name: `CN=${realm}, OU=${MANAGED_OU}`,
    notBefore: NOT_BEFORE,
    notAfter: NOT_AFTER,
    keys: { privateKey, publicKey },
    signingAlgorithm: ALG,
  });
  return {
    privateKeyPem: keyObject.export({ type: "pkcs8", format: "pem" }).toString(),
    certificate: Buffer.from(cert.rawData).toString("base64"),
    kid: keycloakKid(spki),
    publicJwk: { kty: "RSA", n: jwk.n, e: jwk.e },
    bits,
  };
}
