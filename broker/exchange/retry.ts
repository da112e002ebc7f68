/**
 * Bounded retries with jittered exponential backoff, for the exchanges. The SDKs' own retries are
 * switched off so this is the only loop: at most `maxAttempts` calls, each under the SDK's request
 * timeout, with at most `maxDelayMs` between two of them.
 */

export interface RetryOptions {
  maxAttempts: number;
  /** First backoff step; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  isRetryable(error: unknown): boolean;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

export const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** "Full jitter": uniformly random in [0, min(max, base·2^(attempt−1))] (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). */
export function backoffDelay(attempt: number, baseDelayMs: number, maxDelayMs: number, random: () => number): number {
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(Math.min(1, Math.max(0, random())) * ceiling);
}

/** Calls `fn` until it succeeds, fails with a non-retryable error, or `maxAttempts` calls were made. */
export async function withRetries<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= options.maxAttempts || !options.isRetryable(error)) throw error;
      const delay = backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs, random);
      options.onRetry?.(attempt, delay, error);
      await sleep(delay);
    }
  }
}
