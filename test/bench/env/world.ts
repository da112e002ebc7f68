/**
 * Everything the figures share, started once per bench run and stopped at the end: a fresh
 * two-cluster Keycloak trust domain, one realm applied with realm-sync (a workload with an AWS role
 * and an Azure identity, an agent allowed to act for it, the broker's delegation key), the trust
 * exported by realm-sync and loaded by the strict STS and Entra emulators, and the production
 * bundle of the broker.
 */
import { generateKeyPairSync } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type KcAdminClient from "@keycloak/keycloak-admin-client";
import { build } from "esbuild";
import { stringify } from "yaml";
import { loadTrustExport, type TrustExport } from "../../../admin-scripts/trust/artifacts.ts";
import { BROKER_ENTRY, bundleOptions } from "../../../deploy/build/bundle-options.ts";
import type { EntraEmulator, StsEmulator } from "../../../deploy/local/cloud/index.ts";
import { startTrustDomain, type TrustDomainInfo } from "../../../deploy/local/keycloak/trust-domain.ts";
import { cacheDir, repoRoot } from "../../../deploy/local/paths.ts";
import { ensureLocalPki, type LocalPki } from "../../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../../support/realm-fixture.ts";
import { startClouds } from "../../support/world.ts";

export const ACCOUNT = "123456789012";
export const TENANT = "5b0c1f2e-3d4a-4b5c-8d6e-7f8091a2b3c4";
export const APP_CLIENT_ID = "c0ffee00-0000-4000-8000-0000000000b1";
export const ENTRA_RESOURCE = "api://kcb-emulator-resource";
export const WORKLOAD = "bench-app";
export const AGENT = "bench-agent";
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/${WORKLOAD}`;

export interface World {
  /** The trust domain the figures run against (started by the bench, or given). */
  domain: { info: TrustDomainInfo };
  pki: LocalPki;
  /** Scratch directory of this run (removed at the end). */
  dir: string;
  fx: RealmFixture;
  trust: TrustExport;
  sts: StsEmulator;
  entra: EntraEmulator;
  /** The production bundle of the broker, built for this run. */
  brokerBundle: string;
  secrets: { workload: string; agent: string };
  /** Files the broker reads: the workload's client secret, the agents' delegation key (PKCS#8 PEM). */
  files: { workloadSecret: string; delegationKey: string };
  /** Admin client of one cluster, signed in, set to the bench realm. */
  admin(cluster: string): Promise<KcAdminClient>;
  stop(): Promise<void>;
}

export interface BrokerConfigOptions {
  port: number;
  stateDir: string;
  /** Extra top-level config (merged shallowly). */
  extra?: Record<string, unknown>;
  /**
   * payments-api's shape (issue 16's sizing case): two AWS targets (the bench realm has one role;
   * both assume it, each its own session), one Azure identity, and every delivery mode on.
   */
  paymentsShape?: boolean;
}

/** The broker's YAML config for the bench workload, as an operator would write it. */
export function brokerConfig(world: World, opts: BrokerConfigOptions): Record<string, unknown> {
  return {
    issuer: world.fx.issuer,
    clientId: WORKLOAD,
    authentication: { clientSecret: { file: world.files.workloadSecret } },
    aws: {
      region: "us-east-1",
      stsEndpoint: world.sts.url,
      roles: [
        { name: "main", arn: ROLE_ARN, durationSeconds: 3600 },
        ...(opts.paymentsShape ? [{ name: "ledger", arn: ROLE_ARN, durationSeconds: 3600 }] : []),
      ],
    },
    azure: {
      authorityHost: world.entra.url,
      identities: [{ name: "blob", tenantId: TENANT, clientId: APP_CLIENT_ID, scopes: [`${ENTRA_RESOURCE}/.default`] }],
    },
    serve: {
      port: opts.port,
      stateDir: opts.stateDir,
      ...(opts.paymentsShape
        ? { aws: { credentialProcess: {}, webIdentity: {} }, azure: { imds: true, federatedTokenFile: {} } }
        : { azure: { imds: true } }),
    },
    ...opts.extra,
  };
}

/** Writes the config and returns its path. */
export function writeBrokerConfig(world: World, name: string, opts: BrokerConfigOptions): string {
  const file = join(world.dir, `${name}.yaml`);
  writeFileSync(file, stringify(brokerConfig(world, opts)), { mode: 0o600 });
  return file;
}

export interface WorldOptions {
  /** Use this running trust domain (e.g. the integration setup's) instead of starting a fresh one. */
  domain?: TrustDomainInfo;
}

export async function startWorld(log: (line: string) => void, options: WorldOptions = {}): Promise<World> {
  const stops: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error(`bench: teardown step failed: ${(error as Error).message}`);
      }
    }
  };
  try {
    const dir = mkdtempSync(join(tmpdir(), "kcb-bench-"));
    stops.push(() => rmSync(dir, { recursive: true, force: true }));
    const pki = await ensureLocalPki();

    let domain: { info: TrustDomainInfo };
    if (options.domain) {
      domain = { info: options.domain };
    } else {
      const stateDir = join(cacheDir(), "runs", `bench-${process.pid}`);
      const started = Date.now();
      const running = await startTrustDomain({ stateDir, fresh: true, log: (l) => log(`[trust-domain] ${l}`) });
      stops.push(async () => {
        await running.stop();
        rmSync(stateDir, { recursive: true, force: true });
      });
      domain = running;
      log(`trust domain up in ${((Date.now() - started) / 1000).toFixed(1)} s (Keycloak ${running.info.keycloakVersion})`);
    }

    const secrets = { workload: randomClientSecret(), agent: randomClientSecret() };
    const delegation = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const fx = await createRealmFixture({
      domain: domain.info,
      prefix: "bench",
      // 12 h (the maximum): figure 4's simulated 12 hours run on real Keycloak tokens.
      accessTokenLifespan: 43200,
      files: {
        "workload.secret": secrets.workload,
        "agent.secret": secrets.agent,
        "broker-delegation.pub.pem": delegation.publicKey.export({ type: "spki", format: "pem" }).toString(),
      },
      workloads: [
        {
          name: WORKLOAD,
          subject: `workload:${WORKLOAD}`,
          authentication: { clientSecret: { file: "workload.secret" } },
          aws: { roles: [{ arn: ROLE_ARN, maxSessionDuration: 3600 }] },
          azure: { identities: [{ name: "blob", tenantId: TENANT, clientId: APP_CLIENT_ID, scopes: [`${ENTRA_RESOURCE}/.default`] }] },
        },
        { name: AGENT, subject: `agent:${AGENT}`, authentication: { clientSecret: { file: "agent.secret" } } },
      ],
      agents: [
        { name: "copilot", match: { clientId: AGENT }, actFor: [WORKLOAD], targets: [{ aws: { role: ROLE_ARN, maxDuration: 900 } }] },
      ],
    });
    stops.push(() => fx.remove());
    fx.writeConfig((doc) => {
      for (const w of doc.workloads as Array<Record<string, unknown>>)
        if (w.name === WORKLOAD) w.agentDelegation = { privateKeyJwt: { publicKey: { file: "broker-delegation.pub.pem" } } };
    });
    await fx.apply();
    const exported = await fx.run("export-trust");
    if (exported.exitCode !== 0) throw new Error(`export-trust exited ${exported.exitCode}: ${exported.stderr}`);
    const trust = loadTrustExport(join(fx.dir, "trust-export"));
    log(`realm ${fx.realm} applied with realm-sync on ${domain.info.clusters.map((c) => c.name).join(" + ")}; trust exported`);

    const clouds = await startClouds(trust, { resource: ENTRA_RESOURCE });
    stops.push(() => clouds.close());
    const { sts, entra } = clouds;

    const files = { workloadSecret: join(dir, "workload.secret"), delegationKey: join(dir, "broker-delegation.pem") };
    writeFileSync(files.workloadSecret, `${secrets.workload}\n`, { mode: 0o600 });
    writeFileSync(files.delegationKey, delegation.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });

    const brokerBundle = join(dir, "dist", "cloud-broker.mjs");
    mkdirSync(join(dir, "dist"));
    await build({ ...bundleOptions(join(repoRoot, BROKER_ENTRY), brokerBundle), logLevel: "error" });
    log("broker bundled (the production artifact, as npm run build makes it)");

    return {
      domain,
      pki,
      dir,
      fx,
      trust,
      sts,
      entra,
      brokerBundle,
      secrets,
      files,
      admin: (cluster) => fx.admin(cluster),
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
