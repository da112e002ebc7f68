/**
 * How a signing key reaches the local clusters: the way a mounted Secret does in production, never
 * through realm-sync. One PKCS#12 keystore (made with openssl, the documented command) is copied to
 * `<keystoresDir>/<realm>/<file>` of every server, and its password to the server's files vault as
 * `<vaultDir>/<realm>_<vault entry>`. realm-sync is given only the public certificate.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Where one server reads keystores and vault secrets from. */
export interface KeystoreHome {
  keystoresDir: string;
  vaultDir: string;
}

/** What realm-config says about the key (`signingKeys[]` minus `status`), and what only tests may see. */
export interface InstalledKey {
  name: string;
  /** Public: what realm-config's `certificate` file holds. */
  certificatePem: string;
  keystore: { file: string; alias: string; passwordVault: string };
  /** The private key, for tests that forge tokens with the realm's own key. Never written where realm-sync reads. */
  privateKeyPem: string;
}

function openssl(args: string[], env: Record<string, string> = {}): void {
  const res = spawnSync("openssl", args, { encoding: "utf8", env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (res.error) throw new Error(`openssl: cannot run (${res.error.message})`);
  if (res.status !== 0)
    throw new Error(`openssl ${args[0]} failed (exit ${res.status ?? res.signal}): ${res.stderr.trim().split("\n").slice(-3).join(" ")}`);
}

/**
 * Makes a new RSA key with a self-signed certificate and installs its keystore on every server.
 * The same commands an operator runs (README, "Rotate the signing key"):
 *   openssl req -x509 -newkey rsa:2048 -sha256 -days 3650 -nodes -subj /CN=<realm> -keyout key.pem -out <name>.crt
 *   openssl pkcs12 -export -inkey key.pem -in <name>.crt -name <name> -passout env:PASS -out <name>.p12
 */
export function installSigningKey(opts: { realm: string; name: string; servers: readonly KeystoreHome[]; days?: number }): InstalledKey {
  const work = mkdtempSync(join(tmpdir(), "kcb-keystore-"));
  try {
    const keyFile = join(work, "key.pem");
    const certFile = join(work, `${opts.name}.crt`);
    const p12 = join(work, `${opts.name}.p12`);
    const password = randomBytes(18).toString("base64url");
    openssl([
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-sha256",
      "-days",
      String(opts.days ?? 3650),
      "-nodes",
      "-subj",
      `/CN=${opts.realm}`,
      "-keyout",
      keyFile,
      "-out",
      certFile,
    ]);
    openssl(
      ["pkcs12", "-export", "-inkey", keyFile, "-in", certFile, "-name", opts.name, "-passout", "env:KCB_KEYSTORE_PASSWORD", "-out", p12],
      { KCB_KEYSTORE_PASSWORD: password },
    );
    const keystore = { file: `${opts.name}.p12`, alias: opts.name, passwordVault: `${opts.name}-keystore` };
    for (const server of opts.servers) {
      const dir = join(server.keystoresDir, opts.realm);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      copyFileSync(p12, join(dir, keystore.file));
      mkdirSync(server.vaultDir, { recursive: true, mode: 0o700 });
      // Realm and entry names are [a-z0-9-]: no '_' to escape in the files vault's <realm>_<key> naming.
      writeFileSync(join(server.vaultDir, `${opts.realm}_${keystore.passwordVault}`), password, { mode: 0o600 });
    }
    return { name: opts.name, certificatePem: readFileSync(certFile, "utf8"), keystore, privateKeyPem: readFileSync(keyFile, "utf8") };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Whether every server already holds this key's keystore and vault entry (demo and stack reuse their key across runs). */
export function keystoreInstalled(realm: string, keystore: InstalledKey["keystore"], servers: readonly KeystoreHome[]): boolean {
  return servers.every(
    (s) => existsSync(join(s.keystoresDir, realm, keystore.file)) && existsSync(join(s.vaultDir, `${realm}_${keystore.passwordVault}`)),
  );
}

/**
 * The demo's and the stack's signing key: kept while every server still holds its keystore and the
 * certificate is on disk (a second run keeps the same `kid`), made and installed otherwise. Writes
 * the certificate to `certificateFile`; the private key goes nowhere else.
 */
export function ensureSigningKey(opts: { realm: string; name: string; certificateFile: string; servers: readonly KeystoreHome[] }): void {
  const keystore = { file: `${opts.name}.p12`, alias: opts.name, passwordVault: `${opts.name}-keystore` };
  if (existsSync(opts.certificateFile) && keystoreInstalled(opts.realm, keystore, opts.servers)) return;
  const installed = installSigningKey({ realm: opts.realm, name: opts.name, servers: opts.servers });
  writeFileSync(opts.certificateFile, installed.certificatePem, { mode: 0o644 });
}
