/**
 * The agents' HTTPS listener (broker/serve/listen.ts `listenTls`) on real sockets: TLS only,
 * client certificates required when a client CA is configured, a rotated certificate taken into use
 * without a restart, and unusable files refused with the file named.
 */
import "reflect-metadata";
import { KeyObject, webcrypto } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { connect } from "node:tls";
import * as x509 from "@peculiar/x509";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerError } from "../../broker/errors.ts";
import { listenTls, type Listener } from "../../broker/serve/listen.ts";
import { quietLogger } from "../../broker/serve/ports.ts";
import { ensureLocalPki, type LocalPki } from "../../deploy/local/pki/local-pki.ts";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A self-signed certificate and its key (PEM), usable as its own CA: an agent's client certificate. */
async function selfSigned(cn: string): Promise<{ cert: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0a",
    name: `CN=${cn}`,
    notBefore: new Date(now - 86_400_000),
    notAfter: new Date(now + 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
    ],
  });
  return { cert: cert.toString("pem"), key: KeyObject.from(keys.privateKey).export({ type: "pkcs8", format: "pem" }).toString() };
}

/** POST over TLS, trusting the local CA; status, or the error message when the handshake fails. */
function post(port: number, client?: { cert: string; key: string }): Promise<{ status: number } | { error: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: "localhost", port, method: "POST", path: "/v1/token", ca: pki.caCertPem, ...client, agent: false },
      (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on("error", (e) => resolve({ error: e.message }));
    req.end("grant_type=x");
  });
}

/** The serial number of the certificate the listener presents now (read only, not verified). */
function servedSerial(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "localhost", port, servername: "localhost", rejectUnauthorized: false }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.end();
      resolve(serial);
    });
    socket.on("error", reject);
  });
}

const app = new Hono().post("/v1/token", (c) => c.json({ ok: true }));
let pki: LocalPki & { caCertPem: string };
let dir: string;
const listeners: Listener[] = [];

beforeAll(async () => {
  const local = await ensureLocalPki();
  pki = { ...local, caCertPem: readFileSync(local.caCertFile, "utf8") };
  dir = mkdtempSync(join(tmpdir(), "kcb-agents-tls-"));
});

afterAll(async () => {
  await Promise.all(listeners.map((l) => l.close(0)));
  rmSync(dir, { recursive: true, force: true });
});

describe("the agents' HTTPS listener", () => {
  it("with a client CA: refuses a client without a certificate or with another CA's, serves one with that CA's", async () => {
    const agent = await selfSigned("agent");
    const stranger = await selfSigned("stranger");
    const caFile = join(dir, "agents-ca.pem");
    writeFileSync(caFile, agent.cert);
    const listener = await listenTls(
      app,
      { host: "127.0.0.1", port: 0 },
      { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, clientCaFile: caFile },
      { log: quietLogger },
    );
    listeners.push(listener);
    expect(await post(listener.port)).toHaveProperty("error");
    expect(await post(listener.port, stranger)).toHaveProperty("error");
    expect(await post(listener.port, agent)).toEqual({ status: 200 });
  });

  it("without a client CA: serves any client over TLS", async () => {
    const listener = await listenTls(
      app,
      { host: "127.0.0.1", port: 0 },
      { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile },
      { log: quietLogger },
    );
    listeners.push(listener);
    expect(await post(listener.port)).toEqual({ status: 200 });
  });

  it("takes a rotated certificate into use without a restart, and keeps the old one when the new files do not load", async () => {
    const certFile = join(dir, "tls.pem");
    const keyFile = join(dir, "tls-key.pem");
    copyFileSync(pki.serverCertFile, certFile);
    copyFileSync(pki.serverKeyFile, keyFile);
    const warnings: string[] = [];
    const log = { ...quietLogger, warn: (msg: string) => void warnings.push(msg) };
    const listener = await listenTls(app, { host: "127.0.0.1", port: 0 }, { certFile, keyFile }, { log, reloadIntervalMs: 100 });
    listeners.push(listener);
    const before = await servedSerial(listener.port);

    writeFileSync(certFile, "not a certificate\n");
    for (let i = 0; i < 50 && warnings.length === 0; i++) await sleep(100);
    expect(warnings).toEqual(["TLS certificate change not loaded; keeping the previous one"]);
    expect(await servedSerial(listener.port)).toBe(before);

    // A new key and certificate, as cert-manager would write them (another local CA: only the serial is compared).
    const rotated = await ensureLocalPki(join(dir, "rotated-pki"));
    writeFileSync(keyFile, readFileSync(rotated.serverKeyFile));
    writeFileSync(certFile, readFileSync(rotated.serverCertFile));
    let after = before;
    for (let i = 0; i < 50 && after === before; i++) {
      await sleep(100);
      after = await servedSerial(listener.port).catch(() => before);
    }
    expect(after).not.toBe(before);
  });

  it("refuses unreadable or unusable files, naming the file, never their content", async () => {
    const missing = listenTls(
      app,
      { host: "127.0.0.1", port: 0 },
      { certFile: join(dir, "absent.pem"), keyFile: pki.serverKeyFile },
      { log: quietLogger },
    );
    await expect(missing).rejects.toThrow(BrokerError);
    await expect(missing).rejects.toThrow(/tls\.certFile: cannot read .*absent\.pem \(ENOENT\)/);
    const garbage = join(dir, "garbage.pem");
    writeFileSync(garbage, "secret-looking-bytes\n");
    const unusable = listenTls(
      app,
      { host: "127.0.0.1", port: 0 },
      { certFile: pki.serverCertFile, keyFile: garbage },
      { log: quietLogger },
    );
    await expect(unusable).rejects.toThrow(/not a usable certificate and key/);
    await expect(unusable).rejects.not.toThrow(/secret-looking-bytes/);
  });
});
