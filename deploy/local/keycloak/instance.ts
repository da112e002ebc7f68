import { spawn, spawnSync } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, httpsGet } from "../net.ts";
import type { LocalPki } from "../pki/local-pki.ts";
import { isAlive, killPid, stopPid, trackChild } from "../processes.ts";
import type { Distribution } from "./distribution.ts";

export interface InstanceOptions {
  /** Cluster name, e.g. `eu`. */
  name: string;
  dist: Distribution;
  pki: LocalPki;
  /** This instance's own directory: its server copy, data and log live here. */
  dir: string;
  /** Wipe the data dir first (tests) or keep it (demo, stack). */
  fresh: boolean;
  /** The trust domain's public base URL (same on every cluster, so every cluster issues the same `iss`). */
  publicUrl: string;
  admin: { username: string; password: string };
  httpsPort?: number;
  managementPort?: number;
  /** Called with progress lines. */
  log?: (line: string) => void;
}

/** A running Keycloak server this process started. */
export interface KeycloakInstance {
  name: string;
  pid: number;
  /** Direct URL of this cluster (admin API, per-cluster token requests). */
  url: string;
  managementUrl: string;
  logFile: string;
  /** Where this server loads realm keystores from: `<keystoresDir>/<realm>/<file>` (Keycloak's `java-keystore` provider refuses other paths). */
  keystoresDir: string;
  /** This server's files vault: `<vaultDir>/<realm>_<name>` holds the secret `${vault.<name>}` resolves to in realm `<realm>`. */
  vaultDir: string;
  startupMs: number;
  stop(): Promise<void>;
  /** SIGKILL, no shutdown: what a crashed node looks like. */
  kill(): Promise<void>;
}

/**
 * Gives the instance its own server directory: hard links to the built image (no copy of the
 * ~190 MB of jars) and real copies of what a running server may write (conf, generated Quarkus
 * files), so two instances and the cache never share a writable file. Data survives unless `fresh`.
 */
function prepareServerDir(dist: Distribution, serverDir: string, fresh: boolean): void {
  const marker = join(serverDir, ".kcb-built");
  const image = readFileSync(join(dist.home, ".kcb-built"), "utf8");
  if (!fresh && existsSync(marker) && readFileSync(marker, "utf8") === image) return;
  const data = join(serverDir, "data");
  const savedData = `${serverDir}.data`;
  rmSync(savedData, { recursive: true, force: true });
  if (!fresh && existsSync(data)) renameSync(data, savedData);
  rmSync(serverDir, { recursive: true, force: true });
  mkdirSync(dirname(serverDir), { recursive: true });
  const linked = spawnSync("cp", ["-al", dist.home, serverDir], { encoding: "utf8" });
  if (linked.status !== 0) cpSync(dist.home, serverDir, { recursive: true });
  for (const writable of ["conf", join("lib", "quarkus")]) {
    const target = join(serverDir, writable);
    rmSync(target, { recursive: true, force: true });
    cpSync(join(dist.home, writable), target, { recursive: true });
  }
  if (existsSync(savedData)) renameSync(savedData, data);
}

/** Starts one Keycloak server (`kc.sh start --optimized`) over HTTPS and waits until it is ready. */
export async function startInstance(opts: InstanceOptions): Promise<KeycloakInstance> {
  const log = opts.log ?? (() => {});
  const serverDir = join(opts.dir, "server");
  prepareServerDir(opts.dist, serverDir, opts.fresh);
  const httpsPort = opts.httpsPort ?? (await freePort());
  const managementPort = opts.managementPort ?? (await freePort());
  const url = `https://localhost:${httpsPort}`;
  const managementUrl = `https://localhost:${managementPort}`;
  const logFile = join(opts.dir, "keycloak.log");
  const keystoresDir = join(opts.dir, "keystores");
  const vaultDir = join(opts.dir, "vault");
  for (const dir of [keystoresDir, vaultDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });

  const args = [
    "start",
    "--optimized",
    `--https-port=${httpsPort}`,
    `--http-management-port=${managementPort}`,
    "--http-host=127.0.0.1",
    `--https-certificate-file=${opts.pki.serverCertFile}`,
    `--https-certificate-key-file=${opts.pki.serverKeyFile}`,
    // Keycloak fetches JWKS of federated issuers (the local kube-apiserver stand-in) over HTTPS.
    `--truststore-paths=${opts.pki.caCertFile}`,
    `--hostname=${opts.publicUrl}`,
    `--hostname-admin=${url}`,
    "--hostname-backchannel-dynamic=false",
    // Signing keys reach the server as files, the way a mounted Secret does in production.
    `--spi-keys--java-keystore--keystores-path=${keystoresDir}`,
    `--vault-dir=${vaultDir}`,
  ];
  const out = openSync(logFile, "a");
  const started = Date.now();
  const child = spawn(join(serverDir, "bin", "kc.sh"), args, {
    cwd: opts.dir,
    detached: true,
    stdio: ["ignore", out, out],
    env: {
      ...process.env,
      KC_BOOTSTRAP_ADMIN_USERNAME: opts.admin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: opts.admin.password,
      JAVA_OPTS_KC_HEAP: "-Xms64m -Xmx512m",
    },
  });
  closeSync(out);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`keycloak ${opts.name}: failed to spawn kc.sh`);
  const untrack = trackChild(pid, true);
  child.unref();
  log(`keycloak ${opts.name}: starting (pid ${pid}, ${url}, log ${logFile}) …`);

  const instance: KeycloakInstance = {
    name: opts.name,
    pid,
    url,
    managementUrl,
    logFile,
    keystoresDir,
    vaultDir,
    startupMs: 0,
    async stop() {
      await stopPid(pid, { group: true });
      untrack();
    },
    async kill() {
      await killPid(pid, true);
      untrack();
    },
  };
  try {
    await waitReady(instance, opts.pki.caCertFile);
  } catch (error) {
    await instance.stop();
    throw error;
  }
  instance.startupMs = Date.now() - started;
  log(`keycloak ${opts.name}: ready in ${(instance.startupMs / 1000).toFixed(1)} s`);
  return instance;
}

async function waitReady(instance: KeycloakInstance, caFile: string, timeoutMs = 240_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  while (Date.now() < deadline) {
    if (!isAlive(instance.pid, true)) {
      throw new Error(`keycloak ${instance.name} exited during start-up; see ${instance.logFile}:\n${tail(instance.logFile)}`);
    }
    try {
      const res = await httpsGet(`${instance.managementUrl}/health/ready`, caFile, 2_000);
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(500);
  }
  throw new Error(`keycloak ${instance.name} not ready after ${timeoutMs / 1000} s (${last}); see ${instance.logFile}`);
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}
