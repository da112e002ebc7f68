/**
 * The load generator, in a process of its own so it never shares an event loop (or a core's
 * scheduling quantum) with a server under test: `node --import tsx autocannon-child.ts '<LoadSpec>'`
 * prints one {@link LoadResult} JSON line. Latencies are recorded per response from autocannon's
 * `response` event (autocannon's own histogram has 1 ms resolution, too coarse for a 2 ms p99).
 */
import autocannon from "autocannon";
import { summarizeLatencies } from "../report/stats.ts";
import type { LoadResult, LoadSpec } from "./protocol.ts";

const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
let latencies = new Float64Array(1 << 16);
let n = 0;
const statuses: Record<string, number> = {};

const instance = autocannon(
  {
    url: spec.url,
    method: spec.method ?? "GET",
    ...(spec.headers && { headers: spec.headers }),
    ...(spec.body !== undefined && { body: spec.body }),
    connections: spec.connections,
    duration: spec.durationSeconds,
    ...(spec.rate !== undefined && { overallRate: spec.rate }),
    timeout: 10,
  },
  (error, result) => {
    if (error) {
      console.error(String(error));
      process.exit(1);
    }
    done(result);
  },
);
(instance as unknown as NodeJS.EventEmitter).on(
  "response",
  (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (n === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[n++] = responseTime;
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
  },
);
function done(result: autocannon.Result): void {
  const non2xx = result.non2xx;
  const out: LoadResult = {
    requests: n,
    ok: n - non2xx,
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    latency: summarizeLatencies(latencies.subarray(0, n)),
    statuses,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
