/**
 * Descriptive statistics of latency samples and throughput runs. Pure.
 */

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * The `p`-th percentile (0 < p ≤ 100) of ascending `sorted` values, nearest-rank method: the
 * smallest value such that at least p % of the samples are ≤ it. `NaN` for no samples.
 *
 * @example percentile([1, 2, 3, 4], 50) // 2
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p > 0 && p <= 100)) throw new RangeError(`percentile must be in (0, 100], got ${p}`);
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** Mean, median, p90, p99 and max of unsorted samples (not modified). */
export function summarizeLatencies(samples: ArrayLike<number>): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    mean: n ? sum / n : Number.NaN,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? (sorted[n - 1] as number) : Number.NaN,
  };
}

/** One load-generator run against one server. */
export interface ThroughputRun {
  requests: number;
  /** Seconds the run lasted. */
  seconds: number;
}

/** Requests per second over several runs of the same side: total requests / total time. */
export function requestRate(runs: readonly ThroughputRun[]): number {
  const seconds = runs.reduce((s, r) => s + r.seconds, 0);
  return seconds > 0 ? runs.reduce((s, r) => s + r.requests, 0) / seconds : Number.NaN;
}

/** The median of unsorted values; `NaN` for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
