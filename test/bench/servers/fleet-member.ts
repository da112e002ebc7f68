/**
 * One process of figures 8 and 9's fleet: `count` sidecars' credential sources, each wired as
 * `cloud-broker serve` wires one (broker/cli/serve.ts `createSource`: its own Keycloak token source,
 * STS and Entra adapters, caches and timers), as separate pods would be.
 *
 *   node --import tsx fleet-member.ts <config.yaml> <count>
 *   → "loaded"; on SIGUSR2 ("go") starts every source at once, then every 500 ms prints
 *     {"t":…,"ready":<sources serving everything>,"expired":<expired credentials seen so far>,
 *      "cpuMs":<this process's CPU time since go>,"failures":{"<cloud> <code>":<failed fetches so far>}}
 *     and, once, {"first":[ms from go to each source's first readiness, null if never]}.
 *
 * A source is ready when it serves every credential a pod's SDKs and token files ask it for: each
 * AWS target, each Azure target, and the workload token of each audience (what the token-file
 * writers hand out). Every credential it hands out is checked against the wall clock.
 */
import { readFileSync } from "node:fs";
import { createSource } from "../../../broker/cli/serve.ts";
import { parseBrokerConfig } from "../../../broker/config.ts";
import type { BrokerCredentialSource } from "../../../broker/credential-source.ts";
import { BrokerError } from "../../../broker/errors.ts";
import { silentLogger, type Logger } from "../../../broker/log.ts";
import { MetricsRegistry } from "../../../broker/metrics.ts";

const TICK_MS = 500;
const PROBE_MS = 250;
const FIRST_READY_DEADLINE_MS = 240_000;

const [configFile, countText] = process.argv.slice(2);
const loaded = parseBrokerConfig(readFileSync(configFile ?? "", "utf8"));
if (!loaded.ok) throw new Error(`fleet member: config: ${JSON.stringify(loaded.errors)}`);
const config = loaded.config;
const count = Number(countText);
/** Failed upstream fetches (the cache's "credentials refresh failed", the exchanges' "retrying"), by cloud and error code. */
const failures: Record<string, number> = {};
const countingLogger: Logger = {
  ...silentLogger,
  info(msg, fields) {
    if (msg === "retrying") countFailure(`${String(fields?.upstream)} retry`, fields?.err);
  },
  warn(msg, fields) {
    if (msg === "credentials refresh failed") countFailure(String(fields?.cloud), fields?.err);
  },
  child: () => countingLogger,
};
function countFailure(what: string, error: unknown): void {
  const key = `${what} ${error instanceof BrokerError ? error.code : ((error as Error | undefined)?.name ?? "unknown")}`;
  failures[key] = (failures[key] ?? 0) + 1;
}
const sources: BrokerCredentialSource[] = [];
for (let i = 0; i < count; i++) sources.push(await createSource(config, countingLogger, new MetricsRegistry()));
const audiences = [...(config.aws ? (["aws"] as const) : []), ...(config.azure ? (["azure"] as const) : [])];
let expired = 0;

/** Resolves with the value's expiry, or `undefined` when it is not had within the probe time. */
function within<T>(promise: Promise<T>, expiry: (value: T) => Date): Promise<number | undefined> {
  return Promise.race([
    promise.then(
      (v) => expiry(v).getTime(),
      () => undefined,
    ),
    new Promise<undefined>((r) => setTimeout(() => r(undefined), PROBE_MS)),
  ]);
}

async function readyNow(source: BrokerCredentialSource): Promise<boolean> {
  const expiries = await Promise.all([
    ...source.awsTargets.map((t) => within(source.aws(t.name), (c) => c.expiration)),
    ...source.azureTargets.map((t) => within(source.azure(t.name), (c) => c.expiresOn)),
    ...audiences.map((a) => within(source.workloadToken(a), (c) => c.expiresAt)),
  ]);
  const now = Date.now();
  expired += expiries.filter((e) => e !== undefined && e <= now).length;
  return expiries.every((e) => e !== undefined && e > now);
}

async function run(): Promise<void> {
  const go = Date.now();
  const cpuAtGo = process.cpuUsage();
  const first: Array<number | null> = sources.map(() => null);
  let reportedFirst = false;
  for (const s of sources) s.start();
  for (;;) {
    const tick = Date.now();
    const ready = await Promise.all(sources.map((s) => readyNow(s)));
    const t = Date.now();
    ready.forEach((r, i) => {
      if (r && first[i] === null) first[i] = t - go;
    });
    const cpu = process.cpuUsage(cpuAtGo);
    process.stdout.write(
      `${JSON.stringify({ t, ready: ready.filter(Boolean).length, expired, cpuMs: (cpu.user + cpu.system) / 1000, failures })}\n`,
    );
    if (!reportedFirst && (first.every((f) => f !== null) || t - go > FIRST_READY_DEADLINE_MS)) {
      reportedFirst = true;
      process.stdout.write(`${JSON.stringify({ first })}\n`);
    }
    await new Promise((r) => setTimeout(r, Math.max(0, TICK_MS - (Date.now() - tick))));
  }
}

process.on("SIGTERM", () => {
  for (const s of sources) s.stop();
  process.exit(0);
});
// Nothing else holds the event loop before "go" (the sources' timers are unref'd): this does.
const waiting = setInterval(() => {}, 60_000);
process.once("SIGUSR2", () => {
  clearInterval(waiting);
  void run();
});
process.stdout.write("loaded\n");
