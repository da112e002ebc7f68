import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { cacheDir } from "../paths.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** PEM files of the local trust domain's CA and of the one server certificate every local service uses. */
export interface LocalPki {
  dir: string;
  caCertFile: string;
  serverCertFile: string;
  serverKeyFile: string;
}

const ALG = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const SERVER_NAMES = ["localhost"];
const SERVER_IPS = ["127.0.0.1", "::1"];
const DAY = 86_400_000;

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der)
    .toString("base64")
    .replace(/(.{64})/g, "$1\n")
    .replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function stillValid(file: string): boolean {
  if (!existsSync(file)) return false;
  const cert = new x509.X509Certificate(readFileSync(file, "utf8"));
  return cert.notAfter.getTime() - Date.now() > 30 * DAY;
}

/**
 * Returns the local CA and server certificate, generating them at first use under the cache dir
 * (never in the repo). Clients trust the CA through NODE_EXTRA_CA_CERTS / SSL_CERT_FILE /
 * REQUESTS_CA_BUNDLE, as production clients trust a public CA.
 */
export async function ensureLocalPki(dir = join(cacheDir(), "pki")): Promise<LocalPki> {
  const pki: LocalPki = {
    dir,
    caCertFile: join(dir, "ca.pem"),
    serverCertFile: join(dir, "server.pem"),
    serverKeyFile: join(dir, "server-key.pem"),
  };
  if (stillValid(pki.caCertFile) && stillValid(pki.serverCertFile) && existsSync(pki.serverKeyFile)) return pki;
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  const now = Date.now();
  const caKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: "CN=keycloak-cloud-broker local CA",
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 3650 * DAY),
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  const serverKeys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const server = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: "CN=localhost",
    issuer: ca.subject,
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 365 * DAY),
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...SERVER_NAMES.map((value) => ({ type: "dns" as const, value })),
        ...SERVER_IPS.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  writeFileSync(join(dir, "ca-key.pem"), pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", caKeys.privateKey)), { mode: 0o600 });
  writeFileSync(pki.serverKeyFile, pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", serverKeys.privateKey)), { mode: 0o600 });
  writeFileSync(pki.serverCertFile, server.toString("pem") + "\n" + ca.toString("pem") + "\n");
  writeFileSync(pki.caCertFile, ca.toString("pem") + "\n");
  return pki;
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/** Env that makes Node, Python (requests, ssl, botocore) and curl trust the local CA. */
export function caTrustEnv(pki: LocalPki): Record<string, string> {
  return {
    NODE_EXTRA_CA_CERTS: pki.caCertFile,
    SSL_CERT_FILE: pki.caCertFile,
    REQUESTS_CA_BUNDLE: pki.caCertFile,
    CURL_CA_BUNDLE: pki.caCertFile,
    AWS_CA_BUNDLE: pki.caCertFile,
  };
}
