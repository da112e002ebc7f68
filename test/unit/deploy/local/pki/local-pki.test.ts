import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { caTrustEnv, ensureLocalPki } from "../../../../../deploy/local/pki/local-pki.ts";

const dir = mkdtempSync(join(tmpdir(), "kcb-pki-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("local PKI", () => {
  it("issues a localhost server certificate signed by the local CA, with private keys readable only by the owner", async () => {
    const pki = await ensureLocalPki(dir);
    const ca = new X509Certificate(readFileSync(pki.caCertFile));
    const server = new X509Certificate(readFileSync(pki.serverCertFile));
    expect(ca.ca).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkHost("localhost")).toBe("localhost");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(statSync(pki.serverKeyFile).mode & 0o077).toBe(0);
    expect(statSync(join(dir, "ca-key.pem")).mode & 0o077).toBe(0);
  });

  it("reuses what it generated on the next call", async () => {
    const first = readFileSync(join(dir, "ca.pem"), "utf8");
    await ensureLocalPki(dir);
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toBe(first);
  });

  it("points Node, Python (botocore too) and curl at the CA", async () => {
    const pki = await ensureLocalPki(dir);
    expect(caTrustEnv(pki)).toEqual({
      NODE_EXTRA_CA_CERTS: pki.caCertFile,
      SSL_CERT_FILE: pki.caCertFile,
      REQUESTS_CA_BUNDLE: pki.caCertFile,
      CURL_CA_BUNDLE: pki.caCertFile,
      AWS_CA_BUNDLE: pki.caCertFile,
    });
  });
});
