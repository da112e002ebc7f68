/**
 * When to refresh, when to stop serving, how long to back off: the cache's timing, as pure
 * functions of the credentials' lifetime. No clock, no I/O; `random` is passed in.
 *
 * Why these numbers: botocore refreshes container credentials once 15 min remain (advisory) and
 * the AWS SDK for JS once 5 min remain. Refreshing at 20 min (+ up to 2 min jitter) means an SDK
 * never receives credentials it would consider due for refresh. Short credentials cap both
 * windows by their lifetime, so a 15-min STS session still lives ≥ 5.6 min before its refresh.
 */

export interface TimingPolicy {
  /** Refresh once this little lifetime remains; capped at {@link MAX_AHEAD_FRACTION} of the lifetime. */
  aheadMs: number;
  /** Refresh up to this much earlier still (uniformly random); capped at a quarter of the ahead window. */
  jitterMs: number;
  /** Stop serving once this little lifetime remains; capped at {@link MAX_STOP_FRACTION} of the lifetime. */
  stopServingMs: number;
  /** Backoff after a failed fetch: from this… */
  retryMinMs: number;
  /** …doubling up to this. */
  retryMaxMs: number;
}

export const MAX_AHEAD_FRACTION = 0.5;
export const MAX_STOP_FRACTION = 0.25;
const MAX_JITTER_FRACTION_OF_AHEAD = 0.25;

/**
 * Defaults: refresh at 20 min (+0–2 min), stop serving at 5 min, back off 1 s → 30 s. The 30-s cap
 * bounds how long a fleet waits after an outage ends (each sidecar's next attempt comes within
 * 15–30 s, spread by the jitter: `npm run bench` figure 9).
 */
export const DEFAULT_POLICY: TimingPolicy = {
  aheadMs: 20 * 60_000,
  jitterMs: 2 * 60_000,
  stopServingMs: 5 * 60_000,
  retryMinMs: 1_000,
  retryMaxMs: 30_000,
};

export interface Schedule {
  /** From this instant a background refresh is due. */
  refreshAt: number;
  /** From this instant the value is no longer served. */
  stopAt: number;
}

/**
 * The schedule of a value fetched at `fetchedAt` that expires at `expiresAt` (ms since epoch).
 * Always `fetchedAt ≤ refreshAt < stopAt < expiresAt` for a positive lifetime.
 *
 * @example schedule(0, 3_600_000, DEFAULT_POLICY, () => 0) // { refreshAt: 2_400_000, stopAt: 3_300_000 }
 */
export function schedule(fetchedAt: number, expiresAt: number, policy: TimingPolicy, random: () => number): Schedule {
  const lifetime = Math.max(0, expiresAt - fetchedAt);
  const ahead = Math.min(policy.aheadMs, lifetime * MAX_AHEAD_FRACTION);
  const jitter = clamp01(random()) * Math.min(policy.jitterMs, ahead * MAX_JITTER_FRACTION_OF_AHEAD);
  const stop = Math.min(policy.stopServingMs, lifetime * MAX_STOP_FRACTION);
  return { refreshAt: Math.round(expiresAt - ahead - jitter), stopAt: Math.round(expiresAt - stop) };
}

/**
 * Delay before attempt `failures + 1` after `failures` consecutive failures (≥ 1): exponential
 * from `retryMinMs`, capped at `retryMaxMs`, "equal jitter" (half fixed, half random) so retries
 * of many sidecars spread out yet never come sooner than half the step.
 */
export function retryDelay(failures: number, policy: TimingPolicy, random: () => number): number {
  const step = Math.min(policy.retryMaxMs, policy.retryMinMs * 2 ** Math.max(0, failures - 1));
  return Math.round(step / 2 + (clamp01(random()) * step) / 2);
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0;
}
