import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startIssuerFront, type IssuerFront } from "../issuer/issuer-front.ts";
import { freePort } from "../net.ts";
import { ensureLocalPki, type LocalPki } from "../pki/local-pki.ts";
import { ensureDistribution, type Distribution } from "./distribution.ts";
import { startInstance, type KeycloakInstance } from "./instance.ts";

/** What tests, the demo and `stack` need to reach a running local trust domain. Holds no secret but the local admin password. */
export interface TrustDomainInfo {
  keycloakVersion: string;
  /** The one public base URL of the trust domain (the issuer front); realms issue `${publicUrl}/realms/<realm>`. */
  publicUrl: string;
  frontPort: number;
  caCertFile: string;
  admin: { username: string; password: string };
  /** Per cluster; `keystoresDir` and `vaultDir` are where the server reads signing keys (the local stand-in for a mounted Secret). */
  clusters: Array<{
    name: string;
    url: string;
    managementUrl: string;
    pid: number;
    logFile: string;
    startupMs: number;
    keystoresDir: string;
    vaultDir: string;
  }>;
}

export interface RunningTrustDomain {
  info: TrustDomainInfo;
  pki: LocalPki;
  dist: Distribution;
  front: IssuerFront;
  instances: Map<string, KeycloakInstance>;
  /** Stops one cluster (a fault) and starts it again on the same ports and data. */
  restartCluster(name: string): Promise<KeycloakInstance>;
  stopCluster(name: string): Promise<void>;
  /** Kills one cluster's processes with SIGKILL (a crash); `restartCluster` brings it back on the same ports and data. */
  killCluster(name: string): Promise<void>;
  stop(): Promise<void>;
}

export interface TrustDomainOptions {
  /** Where instance directories, logs and the admin credentials live. */
  stateDir: string;
  /** Start from empty databases (tests) or reuse earlier state (demo, stack). */
  fresh: boolean;
  /** Port of the issuer front; a free one when absent. */
  frontPort?: number;
  clusters?: string[];
  /** How the issuer front spreads requests (default failover: the first cluster unless it is down). */
  routing?: "failover" | "round-robin";
  log?: (line: string) => void;
}

function adminCredentials(stateDir: string, fresh: boolean): { username: string; password: string } {
  if (process.env.KCB_ADMIN_USERNAME && process.env.KCB_ADMIN_PASSWORD) {
    return { username: process.env.KCB_ADMIN_USERNAME, password: process.env.KCB_ADMIN_PASSWORD };
  }
  const file = join(stateDir, "admin.json");
  if (!fresh && existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as { username: string; password: string };
  const creds = { username: "admin", password: randomBytes(18).toString("base64url") };
  writeFileSync(file, JSON.stringify(creds), { mode: 0o600 });
  return creds;
}

/**
 * Starts the local trust domain: the local CA, the Keycloak distribution (downloaded and built
 * once), one independent Keycloak server per cluster (`eu`, `us`) sharing one public hostname, and
 * the issuer front that plays geo-DNS in front of them.
 */
export async function startTrustDomain(opts: TrustDomainOptions): Promise<RunningTrustDomain> {
  const log = opts.log ?? (() => {});
  const names = opts.clusters ?? ["eu", "us"];
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const pki = await ensureLocalPki();
  const dist = await ensureDistribution(log);
  const frontPort = opts.frontPort ?? (await freePort());
  const publicUrl = `https://localhost:${frontPort}`;
  const admin = adminCredentials(opts.stateDir, opts.fresh);

  const ports = new Map<string, { httpsPort: number; managementPort: number }>();
  for (const name of names) ports.set(name, { httpsPort: await freePort(), managementPort: await freePort() });
  const start = (name: string, fresh: boolean) =>
    startInstance({ name, dist, pki, dir: join(opts.stateDir, name), fresh, publicUrl, admin, ...ports.get(name), log });

  const instances = new Map<string, KeycloakInstance>();
  const results = await Promise.allSettled(names.map((name) => start(name, opts.fresh)));
  results.forEach((r, i) => r.status === "fulfilled" && instances.set(names[i] ?? "", r.value));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.all([...instances.values()].map((i) => i.stop()));
    throw failed.reason;
  }

  const front = await startIssuerFront({
    pki,
    port: frontPort,
    upstreams: names.map((name) => {
      const instance = instances.get(name)!;
      return { name, url: instance.url, healthUrl: `${instance.managementUrl}/health/ready` };
    }),
    routing: opts.routing,
  });
  log(`issuer front: ${publicUrl} → ${names.join(", ")} (${opts.routing ?? "failover"})`);

  const info = (): TrustDomainInfo => ({
    keycloakVersion: dist.version,
    publicUrl,
    frontPort,
    caCertFile: pki.caCertFile,
    admin,
    clusters: names.map((name) => {
      const i = instances.get(name)!;
      return {
        name,
        url: i.url,
        managementUrl: i.managementUrl,
        pid: i.pid,
        logFile: i.logFile,
        startupMs: i.startupMs,
        keystoresDir: i.keystoresDir,
        vaultDir: i.vaultDir,
      };
    }),
  });

  const domain: RunningTrustDomain = {
    get info() {
      return info();
    },
    pki,
    dist,
    front,
    instances,
    async stopCluster(name) {
      await instances.get(name)?.stop();
    },
    async killCluster(name) {
      await instances.get(name)?.kill();
    },
    async restartCluster(name) {
      await instances.get(name)?.stop();
      const instance = await start(name, false);
      instances.set(name, instance);
      return instance;
    },
    async stop() {
      await front.close();
      await Promise.all([...instances.values()].map((i) => i.stop()));
      if (opts.fresh) {
        for (const name of names) rmSync(join(opts.stateDir, name, "server"), { recursive: true, force: true });
      }
    },
  };
  return domain;
}
