/**
 * The world a fault or security test runs the broker in: its own realm applied by realm-sync on
 * every cluster of the shared trust domain, one workload (`orders`, client secret) with an AWS role
 * and an Azure identity, optionally an agent acting for it, and the strict STS and Entra emulators
 * loaded from the trust `realm-sync export-trust` wrote for that realm.
 *
 * @example
 * const world = await startBrokerWorld({ domain: inject("trustDomain"), prefix: "faults" });
 * const config = world.config({ refresh: { retryMinSeconds: 0.2 } });
 * // …
 * await world.close();
 */
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { loadTrustExport, type TrustExport } from "../../../admin-scripts/trust/artifacts.ts";
import { parseBrokerConfig, type Config } from "../../../broker/config.ts";
import type { EntraEmulator, StsEmulator } from "../../../deploy/local/cloud/index.ts";
import type { IssuerKeysOptions } from "../../../deploy/local/cloud/common/issuer-keys.ts";
import type { Clock } from "../../../deploy/local/cloud/common/types.ts";
import type { TrustDomainInfo } from "../../../deploy/local/keycloak/trust-domain.ts";
import { ensureLocalPki, type LocalPki } from "../../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture, type WorkloadInput } from "../realm-fixture.ts";
import { startClouds, type Clouds } from "../world.ts";

export const ACCOUNT = "567890123456";
export const TENANT = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b";
export const APP = "f00dfeed-0000-4000-8000-0000000000f1";
export const WORKLOAD = "orders";
export const SUBJECT = "workload:orders";
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${WORKLOAD}`;
export const AGENT = "copilot";
const RESOURCE_SCOPE = "api://kcb-emulator-resource/.default";

export interface BrokerWorldOptions {
  domain: TrustDomainInfo;
  /** Realm name prefix (a unique suffix is added). */
  prefix: string;
  /** Keycloak access-token lifetime in seconds (default 3600, so the broker's clock can be moved ahead). */
  accessTokenLifespan?: number;
  /** Options of the emulators' issuer-key fetchers (e.g. a short forced-refresh cool-down). */
  issuerKeys?: IssuerKeysOptions;
  /** Add an agent (`copilot`, its own client-secret workload) that may act for `orders`, and the broker's delegation key. */
  agents?: boolean;
}

export interface Emulators {
  sts: StsEmulator;
  entra: EntraEmulator;
}

export interface BrokerWorld extends Emulators {
  fx: RealmFixture;
  trust: TrustExport;
  pki: LocalPki;
  /** A private temp dir for the test's files (removed by close). */
  dir: string;
  /** The workload's client secret, in a file as the broker reads it. */
  secretFile: string;
  /** `orders`'s and (with `agents`) `copilot`'s client secrets. */
  secrets: Record<string, string>;
  /** With `agents`: the broker's delegation key (realm-sync gave its public part to the delegation clients). */
  delegationKey?: { privateKey: KeyObject; file: string };
  /** The broker config document of `orders`, as an operator writes it; `extra` replaces whole sections. */
  configDoc(extra?: Record<string, unknown>, emulators?: Emulators): Record<string, unknown>;
  /** The same, validated by the broker's own loader. */
  config(extra?: Record<string, unknown>, emulators?: Emulators): Config;
  /** Writes a config document into `dir` and returns the file. */
  writeConfig(name: string, doc: Record<string, unknown>): string;
  /** Another STS + Entra pair on the same trust (e.g. with a skewed clock); closed by {@link close}. */
  startEmulators(opts?: { clock?: Clock }): Promise<Emulators>;
  /** A client-credentials token of a client of the realm (through the issuer front). */
  clientToken(clientId: string, scope: string): Promise<string>;
  close(): Promise<void>;
}

export async function startBrokerWorld(opts: BrokerWorldOptions): Promise<BrokerWorld> {
  const pki = await ensureLocalPki();
  const dir = mkdtempSync(join(tmpdir(), `kcb-${opts.prefix}-`));
  const secrets: Record<string, string> = { [WORKLOAD]: randomClientSecret() };
  const workloads: WorkloadInput[] = [
    {
      name: WORKLOAD,
      subject: SUBJECT,
      authentication: { clientSecret: { file: `${WORKLOAD}.secret` } },
      aws: { roles: [{ arn: ROLE_ARN, maxSessionDuration: 3600 }] },
      azure: { identities: [{ name: "blob", tenantId: TENANT, clientId: APP, scopes: [RESOURCE_SCOPE] }] },
    },
  ];
  const files: Record<string, string> = { [`${WORKLOAD}.secret`]: secrets[WORKLOAD]! };
  let delegationKey: BrokerWorld["delegationKey"];
  let agents: Array<Record<string, unknown>> = [];
  if (opts.agents) {
    secrets[AGENT] = randomClientSecret();
    files[`${AGENT}.secret`] = secrets[AGENT];
    // The agent is a client of the realm like any workload (its tokens carry azp = copilot); it has no cloud target of its own.
    workloads.push({ name: AGENT, subject: `agent:${AGENT}`, authentication: { clientSecret: { file: `${AGENT}.secret` } } });
    agents = [
      {
        name: AGENT,
        match: { clientId: AGENT },
        actFor: [WORKLOAD],
        targets: [{ aws: { role: ROLE_ARN, maxDuration: 900 } }, { azure: { identity: "blob" } }],
      },
    ];
    const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
    files["delegation.pub.pem"] = keys.publicKey.export({ type: "spki", format: "pem" }).toString();
    delegationKey = { privateKey: keys.privateKey, file: join(dir, "delegation.pem") };
    writeFileSync(delegationKey.file, keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
  }

  const fx = await createRealmFixture({
    domain: opts.domain,
    prefix: opts.prefix,
    accessTokenLifespan: opts.accessTokenLifespan ?? 3600,
    files,
    workloads,
    agents,
  });
  if (opts.agents) {
    fx.writeConfig((doc) => {
      const served = new Set((doc.agents as Array<{ actFor: string[] }>).flatMap((a) => a.actFor));
      for (const w of doc.workloads as Array<Record<string, unknown>>)
        if (served.has(w.name as string)) w.agentDelegation = { privateKeyJwt: { publicKey: { file: "delegation.pub.pem" } } };
    });
  }
  const extra: Clouds[] = [];
  try {
    await fx.apply();
    const exported = await fx.run("export-trust");
    if (exported.exitCode !== 0) throw new Error(`export-trust exited ${exported.exitCode}: ${exported.stderr}`);
  } catch (error) {
    await fx.remove();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const trust = loadTrustExport(join(fx.dir, "trust-export"));
  const startEmulators = (o: { clock?: Clock } = {}): Promise<Clouds> =>
    startClouds(trust, { ...(o.clock && { clock: o.clock }), ...(opts.issuerKeys && { issuerKeys: opts.issuerKeys }) });
  const main = await startEmulators();
  const secretFile = join(dir, `${WORKLOAD}.secret`);
  writeFileSync(secretFile, `${secrets[WORKLOAD]}\n`, { mode: 0o600 });

  const configDoc = (more: Record<string, unknown> = {}, emu: Emulators = main): Record<string, unknown> => ({
    issuer: fx.issuer,
    clientId: WORKLOAD,
    authentication: { clientSecret: { file: secretFile } },
    aws: { region: "us-east-1", stsEndpoint: emu.sts.url, roles: [{ name: "main", arn: ROLE_ARN, durationSeconds: 3600 }] },
    azure: {
      authorityHost: emu.entra.url,
      identities: [{ name: "blob", tenantId: TENANT, clientId: APP, scopes: [`${emu.entra.resource}/.default`] }],
    },
    upstream: { timeoutSeconds: 10, maxAttempts: 3 },
    ...more,
  });

  return {
    ...main,
    fx,
    trust,
    pki,
    dir,
    secretFile,
    secrets,
    ...(delegationKey && { delegationKey }),
    configDoc,
    config(more, emu) {
      const result = parseBrokerConfig(stringify(configDoc(more, emu)));
      if (!result.ok) throw new Error(`broker config: ${JSON.stringify(result.errors)}`);
      return result.config;
    },
    writeConfig(name, doc) {
      const file = join(dir, name);
      writeFileSync(file, stringify(doc), { mode: 0o600 });
      return file;
    },
    async startEmulators(o) {
      const pair = await startEmulators(o);
      extra.push(pair);
      return pair;
    },
    async clientToken(clientId, scope) {
      const res = await fetch(`${fx.issuer}/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secrets[clientId] ?? "", scope }),
      });
      const body = (await res.json()) as { access_token?: string; error?: string };
      if (!body.access_token) throw new Error(`token for ${clientId} (${scope}): HTTP ${res.status} ${body.error ?? ""}`);
      return body.access_token;
    },
    async close() {
      await Promise.all([main, ...extra].map((e) => e.close()));
      await fx.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
