/**
 * Child processes for the fault and security tests: the broker (from source with tsx, or the
 * production bundle `npm run build` makes, for fast restarts), realm-sync, and small harness
 * scripts. Each child is tracked by pid (killed if the test process dies) and its output kept.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { build } from "esbuild";
import { bundleOptions } from "../../../deploy/build/bundle-options.ts";
import { repoRoot } from "../../../deploy/local/paths.ts";
import { trackChild } from "../../../deploy/local/processes.ts";

export interface Child {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

/** `node <args>` in the repository root, env = this process's env plus `env`. */
export function spawnNode(args: readonly string[], env: Record<string, string> = {}): Child {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) throw new Error(`cannot spawn node ${args.join(" ")}`);
  const pid = child.pid;
  const untrack = trackChild(pid);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      untrack();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill(signal = "SIGKILL") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}

/** `cloud-broker <args>` from source (`node --import tsx broker/main.ts`). */
export function spawnBroker(args: readonly string[], env: Record<string, string> = {}): Child {
  return spawnNode(["--import", "tsx", "broker/main.ts", ...args], env);
}

/** Bundles an entry module the way `npm run build` bundles the broker (no source map); returns the file. */
export async function bundle(entry: string, outDir: string, name: string): Promise<string> {
  const outfile = join(outDir, name);
  await build({ ...bundleOptions(join(repoRoot, entry), outfile), sourcemap: false, legalComments: "none", logLevel: "error" });
  return outfile;
}

/** Polls `probe` until it returns a value other than `undefined`, or throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Waits until `GET <base>/readyz` answers 200. */
export async function waitReady(base: string, child: Child, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${base}/readyz (broker stderr: ${child.stderr().slice(-2000)})`,
    async () => {
      if (child.child.exitCode !== null) throw new Error(`broker exited ${child.child.exitCode}: ${child.stderr().slice(-3000)}`);
      const status = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      return status === 200 ? true : undefined;
    },
    timeoutMs,
    200,
  );
}
