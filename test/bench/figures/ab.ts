/**
 * Interleaved A/B throughput runs (A B A B …) with the same load generator, so drift of a shared
 * machine hits both sides alike; resident memory of each side with a pid sampled while it is under
 * load, and its CPU time per answered request (which another process's load on the machine moves
 * far less than the request rate).
 */
import { runLoad } from "../load/run-load.ts";
import type { LoadResult, LoadSpec } from "../load/protocol.ts";
import { median, requestRate } from "../report/stats.ts";
import { cpuSeconds, residentMemory, type Resident } from "../env/child.ts";

export interface Side {
  name: string;
  spec: LoadSpec;
  /** Sample this pid's resident memory during its runs. */
  pid?: number;
}

export interface AbResult {
  a: LoadResult[];
  b: LoadResult[];
  rateA: number;
  rateB: number;
  /** Median of the per-run p99 latencies, ms. */
  p99A: number;
  p99B: number;
  /** Largest resident memory of each side seen under load (when its pid was given). */
  maxRssA: Resident | undefined;
  maxRssB: Resident | undefined;
  /** CPU time (user + system) per answered request over all runs, µs (when the side's pid was given). */
  cpuPerRequestA: number | undefined;
  cpuPerRequestB: number | undefined;
}

export async function interleaved(
  a: Side,
  b: Side,
  opts: { pairs: number; warmupSeconds: number; log: (line: string) => void },
): Promise<AbResult> {
  for (const side of [a, b]) await runLoad({ ...side.spec, durationSeconds: opts.warmupSeconds });
  const out: { a: LoadResult[]; b: LoadResult[] } = { a: [], b: [] };
  const maxRss: { a: Resident | undefined; b: Resident | undefined } = { a: undefined, b: undefined };
  const cpu = { a: { seconds: 0, requests: 0 }, b: { seconds: 0, requests: 0 } };
  for (let i = 0; i < opts.pairs; i++) {
    for (const [key, side] of [
      ["a", a],
      ["b", b],
    ] as const) {
      let timer: NodeJS.Timeout | undefined;
      if (side.pid !== undefined) {
        const pid = side.pid;
        const sample = () => {
          try {
            const now = residentMemory(pid);
            if (!maxRss[key] || now.rss > maxRss[key].rss) maxRss[key] = now;
          } catch {
            // the process is gone; the run will fail loudly
          }
        };
        timer = setInterval(sample, 200);
      }
      const cpuBefore = side.pid !== undefined ? cpuSeconds(side.pid) : 0;
      const result = await runLoad(side.spec).finally(() => clearInterval(timer));
      if (side.pid !== undefined) {
        cpu[key].seconds += cpuSeconds(side.pid) - cpuBefore;
        cpu[key].requests += result.ok;
      }
      out[key].push(result);
      opts.log(
        `  ${side.name}: ${(result.requests / result.seconds).toFixed(0)} req/s, p99 ${result.latency.p99.toFixed(2)} ms${result.non2xx ? `, ${result.non2xx} non-2xx` : ""}${result.errors ? `, ${result.errors} errors` : ""}`,
      );
    }
  }
  return {
    ...out,
    rateA: requestRate(out.a.map((r) => ({ requests: r.ok, seconds: r.seconds }))),
    rateB: requestRate(out.b.map((r) => ({ requests: r.ok, seconds: r.seconds }))),
    p99A: median(out.a.map((r) => r.latency.p99)),
    p99B: median(out.b.map((r) => r.latency.p99)),
    maxRssA: maxRss.a,
    maxRssB: maxRss.b,
    cpuPerRequestA: a.pid !== undefined && cpu.a.requests > 0 ? (cpu.a.seconds / cpu.a.requests) * 1e6 : undefined,
    cpuPerRequestB: b.pid !== undefined && cpu.b.requests > 0 ? (cpu.b.seconds / cpu.b.requests) * 1e6 : undefined,
  };
}

/** Non-2xx answers or socket errors in any run make the comparison meaningless: say so. */
export function failures(results: readonly LoadResult[]): string | undefined {
  const non2xx = results.reduce((s, r) => s + r.non2xx, 0);
  const errors = results.reduce((s, r) => s + r.errors, 0);
  if (!non2xx && !errors) return undefined;
  const statuses = results.reduce<Record<string, number>>((acc, r) => {
    for (const [k, v] of Object.entries(r.statuses)) acc[k] = (acc[k] ?? 0) + v;
    return acc;
  }, {});
  return `${non2xx} non-2xx answers, ${errors} socket errors (statuses ${JSON.stringify(statuses)})`;
}

export const fmtRate = (x: number) => `${Math.round(x).toLocaleString("en-US")} req/s`;
export const fmtMs = (x: number) => `${x.toFixed(2)} ms`;
