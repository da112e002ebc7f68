/**
 * Explains a miss with a CPU profile: runs the broker from its TypeScript sources (so frames name
 * files and packages) with `--cpu-prof`, puts the same load on it, stops it, and summarizes the
 * profile V8 wrote at exit.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { profileLines, summarizeCpuProfile, type CpuProfile } from "../report/cpu-profile.ts";
import { runLoad } from "../load/run-load.ts";
import type { LoadSpec } from "../load/protocol.ts";

export interface Profiled {
  /** A started server: where to send the load. */
  url: string;
  headers?: Record<string, string>;
  stop(): Promise<unknown>;
}

/**
 * Reads the main thread's `.cpuprofile` in `dir`. V8 writes one per thread
 * (`CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`); tsx's loader runs in a worker (thread ≠ 0).
 */
export function readCpuProfile(dir: string): CpuProfile {
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  const main =
    files
      .filter((f) => f.split(".")[4] === "0")
      .sort()
      .at(-1) ?? files.sort().at(-1);
  if (!main) throw new Error(`no .cpuprofile written in ${dir}`);
  return JSON.parse(readFileSync(join(dir, main), "utf8")) as CpuProfile;
}

async function profileOne(
  what: string,
  dir: string,
  start: (cpuProfDir: string) => Promise<Profiled>,
  load: Omit<LoadSpec, "url">,
  topN: number,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const spawned = performance.now();
  const server = await start(dir);
  const skipMs = performance.now() - spawned;
  let result;
  try {
    result = await runLoad({ ...load, url: server.url, headers: { ...load.headers, ...server.headers } });
  } finally {
    await server.stop();
  }
  const rate = result.requests / result.seconds;
  return profileLines(summarizeCpuProfile(readCpuProfile(dir), 12, skipMs), `${what} (--cpu-prof, start-up left out)`, rate, topN);
}

/**
 * Starts a profiled server with `start(dir)`, runs `load` against it, stops it, and returns the
 * explanation lines; with `baseline`, profiles the baseline the same way and appends its summary
 * (so the CPU per request of both can be compared). Never throws: a failed profile becomes a line.
 */
export async function profileUnderLoad(
  what: string,
  dir: string,
  start: (cpuProfDir: string) => Promise<Profiled>,
  load: Omit<LoadSpec, "url">,
  baseline?: { what: string; start: (cpuProfDir: string) => Promise<Profiled> },
): Promise<string[]> {
  const lines: string[] = [];
  for (const [name, begin, sub, topN] of [
    [what, start, "subject", 12],
    ...(baseline ? [[baseline.what, baseline.start, "baseline", 4]] : []),
  ] as Array<[string, (d: string) => Promise<Profiled>, string, number]>) {
    try {
      lines.push(...(await profileOne(name, join(dir, sub), begin, load, topN)));
    } catch (error) {
      lines.push(`(profiling ${name} failed: ${(error as Error).message.split("\n")[0]})`);
    }
  }
  return lines;
}
