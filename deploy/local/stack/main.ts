/**
 * `npm run stack -- up | down | status | env`: the local trust domain as a development environment
 * of its own, running in the background (as LocalStack is for AWS).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { connect } from "node:net";
import { repoRoot } from "../paths.ts";
import { isAlive, stopPid } from "../processes.ts";
import { startLocalStack } from "./local-stack.ts";
import { readState, stackDir, writeState, type StackComponent, type StackState } from "./state.ts";
import { runTrustingLocalCa } from "../pki/trust-local-ca.ts";

await runTrustingLocalCa();

const USAGE = `usage: npm run stack -- <command>

  up        start the local trust domain in the background; writes the workload environment to a file
  status    show each component and its health
  env       print the environment a workload needs (dotenv format)
  down      stop exactly what 'up' started

Options:
  --fresh   (up) start from empty Keycloak databases
  -h, --help

Exit codes: 0 ok, 1 failure, 2 usage, 3 (status) something unhealthy or not running.
Environment: KCB_STACK_FRONT_PORT (issuer port, default 9443), KCB_STACK_DIR (state, default\n<KCB_CACHE_DIR>/state/stack), KCB_CACHE_DIR.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { fresh: { type: "boolean", default: false }, help: { type: "boolean", short: "h", default: false } },
});
const command = positionals[0];
const dir = stackDir();

function running(state: StackState | undefined): state is StackState {
  return state !== undefined && state.phase !== "stopped" && isAlive(state.supervisorPid);
}

async function up(): Promise<number> {
  const existing = readState(dir);
  if (running(existing)) {
    console.log(`already running (supervisor pid ${existing.supervisorPid}); 'npm run stack -- down' first`);
    return 0;
  }
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, "stack.log");
  const out = openSync(logFile, "a");
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs"),
      join(repoRoot, "deploy", "local", "stack", "main.ts"),
      "__supervise",
      ...(values.fresh ? ["--fresh"] : []),
    ],
    {
      cwd: repoRoot,
      detached: true,
      stdio: ["ignore", out, out],
    },
  );
  child.unref();
  const pid = child.pid ?? 0;
  writeState({ supervisorPid: pid, phase: "starting", startedAt: new Date().toISOString(), components: [], logFile }, dir);
  console.log(`starting in the background (supervisor pid ${pid}, log ${logFile}) …`);
  for (;;) {
    await sleep(500);
    const state = readState(dir);
    if (state?.phase === "ready") break;
    if (state?.phase === "failed" || !isAlive(pid)) {
      console.error(`failed: ${state?.error ?? "the supervisor exited"}; see ${logFile}`);
      return 1;
    }
  }
  return status();
}

/** `healthy` when the component's health URL answers 200; `listening` when it has none but accepts connections. */
async function probe(c: StackComponent): Promise<string> {
  try {
    if (c.healthUrl) {
      const res = await fetch(c.healthUrl, { signal: AbortSignal.timeout(3_000) });
      return res.status === 200 ? "healthy" : `unhealthy (HTTP ${res.status})`;
    }
    const { hostname, port } = new URL(c.url);
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => {
        socket.end();
        resolve();
      });
      socket.setTimeout(3_000, () => socket.destroy(new Error("timeout")));
      socket.on("error", reject);
    });
    return "listening";
  } catch (error) {
    return `unreachable (${(error as Error).message})`;
  }
}

async function status(): Promise<number> {
  const state = readState(dir);
  if (!running(state)) {
    console.log("not running");
    return 3;
  }
  let healthy = true;
  console.log(`supervisor pid ${state.supervisorPid}, up since ${state.startedAt}, phase ${state.phase}`);
  for (const c of state.components) {
    const health = await probe(c);
    healthy &&= health === "healthy" || health === "listening";
    console.log(`  ${c.name.padEnd(24)} ${c.kind.padEnd(15)} ${health.padEnd(10)} ${c.url}${c.pid ? `  pid ${c.pid}` : ""}`);
  }
  if (state.envFile) console.log(`workload environment: ${state.envFile}`);
  return healthy ? 0 : 3;
}

function env(): number {
  const state = readState(dir);
  if (!running(state) || !state.envFile || !existsSync(state.envFile)) {
    console.error("not running: 'npm run stack -- up' first");
    return 3;
  }
  process.stdout.write(readFileSync(state.envFile, "utf8"));
  return 0;
}

async function down(): Promise<number> {
  const state = readState(dir);
  if (!running(state)) {
    console.log("not running");
    return 0;
  }
  console.log(`stopping (supervisor pid ${state.supervisorPid}) …`);
  await stopPid(state.supervisorPid, { graceMs: 60_000 });
  const left = state.components.filter((c) => c.pid !== undefined && isAlive(c.pid));
  for (const c of left) await stopPid(c.pid!, { group: true });
  writeState({ ...state, phase: "stopped" }, dir);
  console.log("stopped.");
  return 0;
}

/** Runs detached: owns every process of the stack and stops them all on SIGTERM. */
async function supervise(): Promise<number> {
  const logFile = join(dir, "stack.log");
  const base: StackState = { supervisorPid: process.pid, phase: "starting", startedAt: new Date().toISOString(), components: [], logFile };
  try {
    const stack = await startLocalStack({
      stateDir: dir,
      fresh: values.fresh,
      frontPort: Number(process.env.KCB_STACK_FRONT_PORT ?? 9443),
      log: (line) => console.log(`${new Date().toISOString()} ${line}`),
    });
    const envFile = join(dir, "workload.env");
    writeFileSync(
      envFile,
      Object.entries(stack.workloadEnv())
        .map(([k, v]) => `${k}=${v}\n`)
        .join(""),
      { mode: 0o600 },
    );
    writeState({ ...base, phase: "ready", components: stack.components(), envFile }, dir);
    await new Promise<void>((resolve) => {
      for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
    });
    console.log(`${new Date().toISOString()} stopping`);
    await stack.stop();
    writeState({ ...base, phase: "stopped" }, dir);
    return 0;
  } catch (error) {
    writeState({ ...base, phase: "failed", error: (error as Error).message }, dir);
    console.error(error);
    return 1;
  }
}

const commands: Record<string, () => number | Promise<number>> = { up, down, status, env, __supervise: supervise };
if (values.help || !command || !(command in commands)) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
process.exit(await commands[command]!());
