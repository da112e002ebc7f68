import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { stringify } from "yaml";
import type { CommandIO } from "../../admin-scripts/command.ts";
import { EXIT_CODES, RealmSyncError, type Outcome } from "../../admin-scripts/errors.ts";
import type { TrustDomainInfo } from "../../deploy/local/keycloak/trust-domain.ts";
import { installSigningKey, type InstalledKey } from "../../deploy/local/keycloak/keystore.ts";
import { recordSecret } from "./log-scan.ts";

/** realm-sync's own identities of a fixture realm on each cluster (created by `bootstrap-identities`): master-realm client ids. */
export function fixtureIdentityClientIds(realm: string): { apply: string; view: string } {
  return { apply: `realm-sync-apply-${realm}`, view: `realm-sync-view-${realm}` };
}

/** A workload or agent as written in the YAML (defaults may be omitted); secrets as `{ file: "<name>" }` relative to the fixture dir. */
export type WorkloadInput = Record<string, unknown> & { name: string; subject: string; authentication: Record<string, unknown> };

export interface RealmFixtureOptions {
  /** `inject("trustDomain")`. */
  domain: TrustDomainInfo;
  /** Realm name prefix; a unique suffix is added. */
  prefix?: string;
  workloads?: WorkloadInput[];
  agents?: Array<Record<string, unknown>>;
  accessTokenLifespan?: number;
  /** Extra files (client secrets, public keys) to write into the fixture dir, name → content. */
  files?: Record<string, string>;
  /** Only these clusters (default: every cluster of the domain). */
  clusters?: string[];
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * A signing key of the fixture. Its keystore is installed on every cluster (deploy/local/keycloak/
 * keystore.ts); the fixture dir, which realm-sync reads, holds only its public certificate.
 */
export interface FixtureKey {
  name: string;
  status: "active" | "passive";
  /** `signingKeys[]` entry for the config (without `status`). */
  entry: { name: string; certificate: { file: string }; keystore: InstalledKey["keystore"] };
  certificatePem: string;
  /** The private key, kept in memory for tests that forge tokens with the realm's own key; never on realm-sync's side. */
  pem: string;
}

export interface RealmFixture {
  realm: string;
  issuer: string;
  /** Directory holding the config, keys and secrets (removed by {@link RealmFixture.remove}). */
  dir: string;
  configFile: string;
  /** The config as last written (YAML input form). */
  document: Record<string, unknown>;
  keys: FixtureKey[];
  /** Env the config needs (none: realm-sync's identities' secrets are files in the fixture dir); merge into `process.env` for CLI runs. */
  env: Record<string, string>;
  /** The bootstrap admin, under Keycloak's names: only `bootstrap-identities` gets it. */
  bootstrapEnv: Record<string, string>;
  /** Rewrites the config file; `change` receives a copy of the document to modify. */
  writeConfig(change: (doc: Record<string, unknown>) => void): void;
  /** Makes a new RSA signing key, installs its keystore on every cluster and writes its certificate into the fixture dir. */
  newKey(name: string, status: "active" | "passive"): FixtureKey;
  /** Writes a file into the fixture dir (mode 0600) and returns its `{ file }` reference. */
  writeFile(name: string, content: string): { file: string };
  /** Runs a realm-sync command in-process (`run(opts)` of admin-scripts/commands/<name>.ts) on the config. */
  run(
    command: "plan" | "apply" | "check" | "validate" | "export-trust" | "bootstrap-identities",
    extra?: Record<string, unknown>,
  ): Promise<CommandResult>;
  /** `apply`, throwing unless it exits 0. */
  apply(): Promise<CommandResult>;
  /** An admin client on one cluster (master realm sign-in), set to the fixture's realm. */
  admin(cluster: string): Promise<KcAdminClient>;
  /** The token endpoint of the realm on one cluster (direct, not through the front). */
  tokenEndpoint(cluster: string): string;
  /** Deletes the realm on every cluster and the fixture dir. */
  remove(): Promise<void>;
}

class Capture {
  text = "";
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

/**
 * A fresh, uniquely named realm on the running trust domain, described by a real realm-sync config
 * file (with a generated signing key, written at run time under a temp dir, never committed).
 * As an operator does, the fixture runs `realm-sync bootstrap-identities` once with the bootstrap
 * admin: it creates the (empty) realm and realm-sync's apply and view identities on every cluster,
 * their secrets generated into files of the fixture dir; every other command signs in with those
 * (`apply` with the apply identity, `plan` and `check` with the view identity), never the admin.
 * Call `apply()` to fill the realm on every cluster, `remove()` in `afterAll`.
 *
 * @example
 *   const fx = await createRealmFixture({ domain: inject("trustDomain"), workloads: [{ name: "svc", subject: "workload:svc", authentication: { clientSecret: fx.writeFile(...) } }] });
 *   await fx.apply();
 */
export async function createRealmFixture(opts: RealmFixtureOptions): Promise<RealmFixture> {
  const realm = `${opts.prefix ?? "fx"}-${randomUUID().slice(0, 8)}`;
  const issuer = `${opts.domain.publicUrl}/realms/${realm}`;
  const dir = mkdtempSync(join(tmpdir(), `kcb-${realm}-`));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const configFile = join(dir, "trust-domain.yaml");
  const env: Record<string, string> = {};
  const bootstrapEnv = { KC_BOOTSTRAP_ADMIN_USERNAME: opts.domain.admin.username, KC_BOOTSTRAP_ADMIN_PASSWORD: opts.domain.admin.password };
  const identities = fixtureIdentityClientIds(realm);
  const keys: FixtureKey[] = [];

  const writeFile = (name: string, content: string) => {
    if (name.endsWith(".secret")) recordSecret("client-secret", content.trim());
    writeFileSync(join(dir, name), content, { mode: 0o600 });
    return { file: name };
  };
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFile(name, content);
  const clusters = opts.domain.clusters.filter((c) => !opts.clusters || opts.clusters.includes(c.name));
  const newKey = (name: string, status: "active" | "passive"): FixtureKey => {
    const installed = installSigningKey({ realm, name, servers: clusters });
    const certificate = writeFile(`${name}.crt`, installed.certificatePem);
    const key = {
      name,
      status,
      entry: { name, certificate, keystore: installed.keystore },
      certificatePem: installed.certificatePem,
      pem: installed.privateKeyPem,
    };
    keys.push(key);
    return key;
  };
  const first = newKey(`${realm}-key-1`, "active");

  let document: Record<string, unknown> = {
    version: 1,
    realm,
    issuer,
    clusters: clusters.map((c) => ({
      name: c.name,
      adminUrl: c.url,
      auth: {
        apply: { clientId: identities.apply, clientSecret: { file: `realm-sync-${c.name}-apply.secret` } },
        view: { clientId: identities.view, clientSecret: { file: `realm-sync-${c.name}-view.secret` } },
      },
    })),
    signingKeys: [{ ...first.entry, status: "active" }],
    tokens: { accessTokenLifespan: opts.accessTokenLifespan ?? 300 },
    workloads: opts.workloads ?? [],
    agents: opts.agents ?? [],
  };
  const save = () => writeFileSync(configFile, stringify(document), { mode: 0o600 });
  save();

  const run = async (command: string, extra: Record<string, unknown> = {}): Promise<CommandResult> => {
    const stdout = new Capture();
    const stderr = new Capture();
    const io: CommandIO = { cwd: dir, env: { ...process.env, ...env }, stdout, stderr };
    const mod = (await import(`../../admin-scripts/commands/${command}.ts`)) as { run(o: unknown): Promise<Outcome> };
    let exitCode: number;
    try {
      exitCode =
        EXIT_CODES[
          await mod.run({
            ...io,
            config: "trust-domain.yaml",
            verbose: false,
            json: false,
            cluster: [],
            out: join(dir, "trust-export"),
            check: false,
            requireEnv: true,
            ...extra,
          })
        ];
    } catch (error) {
      if (!(error instanceof RealmSyncError)) throw error;
      stderr.write(`${error.message}\n${error.issues.map((i) => `  ${i.path}: ${i.message}\n`).join("")}`);
      exitCode = EXIT_CODES[error.code];
    }
    return { exitCode, stdout: stdout.text, stderr: stderr.text };
  };

  // The identities need only the realm and its clusters: bootstrap before the test adds what its workloads need (e.g. kubernetesIssuers).
  writeFileSync(configFile, stringify({ ...document, workloads: [], agents: [] }), { mode: 0o600 });
  const bootstrapped = await run("bootstrap-identities", { env: { ...process.env, ...bootstrapEnv } });
  if (bootstrapped.exitCode !== 0)
    throw new Error(`realm-sync bootstrap-identities exited ${bootstrapped.exitCode}:\n${bootstrapped.stderr}\n${bootstrapped.stdout}`);
  save();
  for (const c of clusters)
    for (const kind of ["apply", "view"])
      recordSecret("client-secret", readFileSync(join(dir, `realm-sync-${c.name}-${kind}.secret`), "utf8").trim());

  const admins = new Map<string, KcAdminClient>();
  return {
    realm,
    issuer,
    dir,
    configFile,
    get document() {
      return document;
    },
    keys,
    env,
    bootstrapEnv,
    writeConfig(change) {
      const next = structuredClone(document);
      change(next);
      document = next;
      save();
    },
    newKey,
    writeFile,
    run,
    async apply() {
      const result = await run("apply");
      if (result.exitCode !== 0) throw new Error(`realm-sync apply exited ${result.exitCode}:\n${result.stderr}\n${result.stdout}`);
      return result;
    },
    async admin(cluster) {
      const c = opts.domain.clusters.find((x) => x.name === cluster);
      if (!c) throw new Error(`no cluster ${cluster}`);
      let admin = admins.get(cluster);
      if (!admin) {
        admin = new KcAdminClient({ baseUrl: c.url, realmName: "master" });
        admins.set(cluster, admin);
      }
      admin.setConfig({ realmName: "master" });
      await admin.auth({ grantType: "password", clientId: "admin-cli", ...opts.domain.admin });
      admin.setConfig({ realmName: realm });
      return admin;
    },
    tokenEndpoint(cluster) {
      const c = opts.domain.clusters.find((x) => x.name === cluster);
      if (!c) throw new Error(`no cluster ${cluster}`);
      return `${c.url}/realms/${realm}/protocol/openid-connect/token`;
    },
    async remove() {
      for (const c of clusters) {
        const admin = new KcAdminClient({ baseUrl: c.url, realmName: "master" });
        await admin.auth({ grantType: "password", clientId: "admin-cli", ...opts.domain.admin }).catch(() => undefined);
        await admin.realms.del({ realm }).catch(() => undefined);
        for (const clientId of Object.values(identities)) {
          const [client] = await admin.clients.find({ realm: "master", clientId }).catch(() => []);
          if (client?.id) await admin.clients.del({ realm: "master", id: client.id }).catch(() => undefined);
        }
      }
      rmSync(dir, { recursive: true, force: true });
      for (const c of clusters) {
        rmSync(join(c.keystoresDir, realm), { recursive: true, force: true });
        for (const key of keys) rmSync(join(c.vaultDir, `${realm}_${key.entry.keystore.passwordVault}`), { force: true });
      }
    },
  };
}

/** A random client secret for a `clientSecret` workload. */
export function randomClientSecret(): string {
  const secret = randomBytes(24).toString("base64url");
  recordSecret("client-secret", secret);
  return secret;
}
