import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import { freePort } from "../net.ts";
import { repoRoot } from "../paths.ts";
import { isAlive, stopPid, trackChild } from "../processes.ts";
import type { LocalWorkload } from "./demo-config.ts";

const TSX = join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
const BROKER_MAIN = join(repoRoot, "broker", "main.ts");

/** A `cloud-broker` sidecar process the stack started for one workload. */
export interface BrokerProcess {
  workload: string;
  pid: number;
  url: string;
  /** `https://localhost:<port>` of the agents' token-exchange listener, when it is on. */
  agentsUrl?: string;
  configFile: string;
  logFile: string;
  /** `cloud-broker env --mode <mode> [--target <target>] --format json`: exactly what a workload needs for that mode (and target). */
  env(mode: string, target?: string): Record<string, string>;
  stop(): Promise<void>;
}

export interface BrokerSetup {
  workload: LocalWorkload;
  issuer: string;
  /** How the broker authenticates to Keycloak (config `authentication`). */
  authentication: Record<string, unknown>;
  stsEndpoint: string;
  authorityHost: string;
  dir: string;
  /** Enables the agents' token-exchange endpoint, on its own HTTPS listener with this certificate (the local CA's localhost one). */
  agents?: { realmConfigFile: string; delegationKeyFile: string; tls: { certFile: string; keyFile: string } };
  /** Extra environment (CA trust). */
  env: Record<string, string>;
}

/** Local target name of a role: the role name from its ARN. */
export function roleTargetName(arn: string): string {
  return arn.slice(arn.lastIndexOf("/") + 1);
}

/** The broker config a platform team would write for this workload, bound to the local clouds. */
export function brokerConfig(setup: BrokerSetup, port: number, agentsPort = 0): Record<string, unknown> {
  const w = setup.workload;
  const cli = [process.execPath, TSX, BROKER_MAIN];
  return {
    issuer: setup.issuer,
    clientId: w.name,
    authentication: setup.authentication,
    ...(w.aws && {
      aws: {
        region: "us-east-1",
        stsEndpoint: setup.stsEndpoint,
        roles: w.aws.roles.map((r) => ({ name: roleTargetName(r.arn), arn: r.arn, durationSeconds: Math.min(3600, r.maxSessionDuration) })),
      },
    }),
    ...(w.azure && {
      azure: {
        authorityHost: setup.authorityHost,
        identities: w.azure.identities.map((i) => ({ name: i.name, tenantId: i.tenantId, clientId: i.clientId, scopes: i.scopes })),
      },
    }),
    serve: {
      host: "127.0.0.1",
      port,
      stateDir: join(setup.dir, "state"),
      ...(w.aws && { aws: { container: true, credentialProcess: { command: [...cli, "credential-process"] }, webIdentity: true } }),
      ...(w.azure && { azure: { appService: true, imds: true, federatedTokenFile: true } }),
    },
    ...(setup.agents && {
      agents: {
        realmConfigFile: setup.agents.realmConfigFile,
        delegationKey: { keyFile: setup.agents.delegationKeyFile, alg: "RS256" },
        listen: { host: "127.0.0.1", port: agentsPort, tls: setup.agents.tls },
      },
    }),
    log: { level: "info" },
  };
}

/** Starts `cloud-broker serve` as its own process and waits until `/readyz` says every target holds credentials. */
export async function startBroker(setup: BrokerSetup, log: (line: string) => void): Promise<BrokerProcess> {
  mkdirSync(setup.dir, { recursive: true, mode: 0o700 });
  const port = await freePort();
  const agentsPort = setup.agents ? await freePort() : 0;
  const configFile = join(setup.dir, "cloud-broker.yaml");
  writeFileSync(configFile, stringify(brokerConfig(setup, port, agentsPort)), { mode: 0o600 });
  const logFile = join(setup.dir, "cloud-broker.log");
  const out = openSync(logFile, "a");
  const env = { ...process.env, ...setup.env };
  const child = spawn(process.execPath, [TSX, BROKER_MAIN, "serve", "--config", configFile], {
    cwd: setup.dir,
    detached: true,
    stdio: ["ignore", out, out],
    env,
  });
  closeSync(out);
  const pid = child.pid ?? 0;
  const untrack = trackChild(pid, true);
  child.unref();
  const url = `http://127.0.0.1:${port}`;
  const started = Date.now();
  for (;;) {
    if (!isAlive(pid, true)) throw new Error(`cloud-broker for ${setup.workload.name} exited during start-up; see ${logFile}`);
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() - started > 60_000) {
      await stopPid(pid, { group: true });
      throw new Error(`cloud-broker for ${setup.workload.name} not ready after 60 s; see ${logFile}`);
    }
    await sleep(200);
  }
  log(`cloud-broker ${setup.workload.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${url}, pid ${pid})`);
  return {
    workload: setup.workload.name,
    pid,
    url,
    ...(setup.agents && { agentsUrl: `https://localhost:${agentsPort}` }),
    configFile,
    logFile,
    env(mode, target) {
      const result = spawnSync(
        process.execPath,
        [TSX, BROKER_MAIN, "env", "--mode", mode, ...(target ? ["--target", target] : []), "--format", "json", "--config", configFile],
        { encoding: "utf8", env },
      );
      if (result.status !== 0) throw new Error(`cloud-broker env --mode ${mode} failed: ${result.stderr.trim().split("\n").pop() ?? ""}`);
      return JSON.parse(result.stdout) as Record<string, string>;
    },
    async stop() {
      await stopPid(pid, { group: true, graceMs: 10_000 });
      untrack();
    },
  };
}
