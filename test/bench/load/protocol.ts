/** What the bench asks of the load-generator child, and what it answers (one JSON line each way). */
import type { LatencySummary } from "../report/stats.ts";

export interface LoadSpec {
  url: string;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  /** Paced load: at most this many requests per second over all connections (autocannon `overallRate`); saturating when absent. */
  rate?: number;
}

export interface LoadResult {
  /** Responses received (any status). */
  requests: number;
  /** Responses with a 2xx status. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Every response's latency (ms, sub-millisecond resolution), summarized. */
  latency: LatencySummary;
  /** Status code → count. */
  statuses: Record<string, number>;
}
