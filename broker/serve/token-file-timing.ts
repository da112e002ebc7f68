/**
 * When to rewrite a token file (pure). The file must always hold a token the SDK can still use
 * after its own caching: see `SERVE_DEFAULTS` in options.ts for the windows.
 */

/** Never poll the source more often than this. */
export const MIN_REWRITE_DELAY_MS = 5_000;
/** While the source can only give a token already inside the window, ask again at least this often. */
export const INSIDE_WINDOW_POLL_MS = 30_000;
/** Backoff after a failed attempt: 1 s, 2 s, 4 s … capped. */
export const MAX_RETRY_DELAY_MS = 30_000;

export interface RewritePlan {
  delayMs: number;
  /** True when the token already has less than the window left (the token lifetime is too short for the SDK's caching). */
  insideWindow: boolean;
}

/**
 * Delay until the next rewrite of a file whose token expires at `expiresAtMs`.
 *
 * @example
 * nextRewrite({ expiresAtMs: now + 3_600_000, nowMs: now, rewriteBeforeMs: 900_000 }).delayMs; // 2_700_000
 */
export function nextRewrite(input: { expiresAtMs: number; nowMs: number; rewriteBeforeMs: number }): RewritePlan {
  const remaining = input.expiresAtMs - input.nowMs;
  const ideal = remaining - input.rewriteBeforeMs;
  if (ideal >= MIN_REWRITE_DELAY_MS) return { delayMs: ideal, insideWindow: false };
  // Already inside the window: keep the freshest token the source has, asking again well before expiry.
  const delayMs = Math.max(MIN_REWRITE_DELAY_MS, Math.min(INSIDE_WINDOW_POLL_MS, Math.floor(remaining / 4)));
  return { delayMs, insideWindow: true };
}

/** Delay before attempt number `failures + 1` after `failures` consecutive failures (≥ 1). */
export function retryDelay(failures: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, 1000 * 2 ** Math.max(0, failures - 1));
}
