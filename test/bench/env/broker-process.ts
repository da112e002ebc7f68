/**
 * The broker as production runs it: a separate `node` process started from the production bundle
 * with the image's Node flags (`cloud-broker serve --config <file>`), or from the TypeScript entry through tsx when a CPU
 * profile should name source files. Ready when `/readyz` answers 200 (every target's credentials
 * held: the cache is warm).
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { STATE_FILES } from "../../../broker/config/serve-options.ts";
import { freePort } from "../../../deploy/local/net.ts";
import { spawnNode, waitFor200, type Child } from "./child.ts";
import { imageNodeFlags } from "./image-flags.ts";
import { writeBrokerConfig, type World } from "./world.ts";

export interface BrokerProcess {
  child: Child;
  port: number;
  url: string;
  stateDir: string;
  /** Content of the AWS container authorization token file (sent raw as `Authorization`). */
  awsAuthToken(): string;
  /** Content of the App Service header secret file (`X-IDENTITY-HEADER`). */
  identityHeader(): string;
  metrics(): Promise<string>;
  stop(): Promise<number | null>;
}

export interface BrokerProcessOptions {
  name: string;
  /** `bundle` (default): dist-style bundle; `source`: `node --import tsx broker/main.ts`. */
  from?: "bundle" | "source";
  /** Write a V8 CPU profile into this directory at exit. */
  cpuProfDir?: string;
  extraConfig?: Record<string, unknown>;
  /** payments-api's shape: see BrokerConfigOptions.paymentsShape (env/world.ts). */
  paymentsShape?: boolean;
  /** Do not wait for /readyz (the caller measures it). */
  noWait?: boolean;
  env?: Record<string, string>;
}

export async function startBrokerProcess(world: World, opts: BrokerProcessOptions): Promise<BrokerProcess & { readyMs: number }> {
  const port = await freePort();
  const stateDir = join(world.dir, `${opts.name}-state`);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const config = writeBrokerConfig(world, opts.name, {
    port,
    stateDir,
    ...(opts.extraConfig && { extra: opts.extraConfig }),
    ...(opts.paymentsShape && { paymentsShape: true }),
  });
  const entry = (opts.from ?? "bundle") === "bundle" ? [...imageNodeFlags(), world.brokerBundle] : ["--import", "tsx", "broker/main.ts"];
  const prof = opts.cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", opts.cpuProfDir] : [];
  const started = performance.now();
  const child = spawnNode({ args: [...prof, ...entry, "serve", "--config", config], ...(opts.env && { env: opts.env }) });
  const url = `http://127.0.0.1:${port}`;
  let readyMs = Number.NaN;
  if (!opts.noWait) {
    await waitFor200(`${url}/readyz`, child, 60_000);
    readyMs = performance.now() - started;
  }
  return {
    child,
    port,
    url,
    stateDir,
    readyMs,
    awsAuthToken: () => readFileSync(join(stateDir, STATE_FILES.awsContainerToken), "utf8"),
    identityHeader: () => readFileSync(join(stateDir, STATE_FILES.azureIdentityHeader), "utf8"),
    metrics: async () => (await fetch(`${url}/metrics`)).text(),
    stop: () => child.stop(),
  };
}

/** The value of one Prometheus sample line, e.g. `metric(text, 'cloud_broker_upstream_calls_total{upstream="aws",outcome="ok"}')`; 0 when absent. */
export function metricValue(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}
