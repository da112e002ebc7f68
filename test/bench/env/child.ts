/**
 * Child processes of the bench (servers under test, baselines), started by pid and stopped by pid.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot } from "../../../deploy/local/paths.ts";
import { trackChild } from "../../../deploy/local/processes.ts";

export interface Child {
  pid: number;
  process: ChildProcess;
  /** Everything written to stderr so far (kept to the last 200 kB). */
  stderr(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once gone. */
  stop(graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  args: string[];
  env?: Record<string, string | undefined>;
  /** `stdout` is piped unless "ignore" (e.g. an audit log nobody reads). */
  stdout?: "pipe" | "ignore";
}

/** Spawns `node <args>` in the repository root. */
export function spawnNode(opts: SpawnOptions): Child {
  const child = spawn(process.execPath, opts.args, {
    cwd: repoRoot,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", opts.stdout ?? "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start node ${opts.args.join(" ")}`);
  const forget = trackChild(pid);
  let err = "";
  child.stderr?.on("data", (d: Buffer) => {
    err = (err + d.toString()).slice(-200_000);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      forget();
      resolve(code);
    }),
  );
  return {
    pid,
    process: child,
    stderr: () => err,
    exited,
    async stop(graceMs = 6_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Waits for a `listening <port>` line on the child's stdout or stderr. */
export function listeningPort(child: Child, timeoutMs = 60_000): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`no "listening" line within ${timeoutMs} ms: ${child.stderr().slice(-2000)}`)),
      timeoutMs,
    );
    const seen = (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.process.stdout?.on("data", seen);
    child.process.stderr?.on("data", seen);
    void child.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening: ${child.stderr().slice(-3000)}`));
    });
  });
}

/** Polls `url` until it answers 200; returns the milliseconds waited. */
export async function waitFor200(url: string, child: Child | undefined, timeoutMs = 60_000, intervalMs = 10): Promise<number> {
  const started = performance.now();
  for (;;) {
    const status = await fetch(url).then(
      (r) => (void r.body?.cancel(), r.status),
      () => 0,
    );
    if (status === 200) return performance.now() - started;
    if (child && child.process.exitCode !== null) throw new Error(`exited with ${child.process.exitCode}: ${child.stderr().slice(-3000)}`);
    if (performance.now() - started > timeoutMs)
      throw new Error(`${url} not 200 within ${timeoutMs} ms (last ${status})${child ? `: ${child.stderr().slice(-3000)}` : ""}`);
    await sleep(intervalMs);
  }
}

export interface Resident {
  /** VmRSS, bytes. */
  rss: number;
  /** RssAnon: heap, stacks, JIT code — what the program allocated. */
  anon: number;
  /** RssFile: mapped files, mostly the node binary itself. */
  file: number;
  /** VmHWM: the largest VmRSS the process has had so far (its peak). */
  peak: number;
}

/** Resident memory of a process (Linux `/proc/<pid>/status`). */
export function residentMemory(pid: number): Resident {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, "m").exec(status)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile"), peak: kb("VmHWM") };
}

/** Linux's USER_HZ: `/proc/<pid>/stat` counts CPU time in ticks of 1/100 s on every architecture Linux runs on. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * CPU time a process has used so far (user + system, seconds; Linux `/proc/<pid>/stat` fields 14
 * and 15, counted after the parenthesised command name, which may itself hold spaces).
 */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}
