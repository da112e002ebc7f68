/**
 * Per-agent token buckets: `burst` requests at once, refilled at `perSecond`. The clock is injected.
 * Memory is bounded: at most `maxKeys` buckets; when full, buckets that have refilled completely
 * (indistinguishable from new ones) are dropped first, then the least recently used.
 */
import type { Clock } from "../clock.ts";
import type { RateLimiter } from "./ports.ts";

export interface TokenBucketOptions {
  burst: number;
  perSecond: number;
  maxKeys?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export function tokenBucketLimiter(options: TokenBucketOptions, clock: Clock): RateLimiter {
  if (!(options.burst >= 1) || !(options.perSecond > 0)) throw new TypeError("burst must be ≥ 1 and perSecond > 0");
  const maxKeys = options.maxKeys ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const refill = (bucket: Bucket, now: number): void => {
    bucket.tokens = Math.min(options.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * options.perSecond);
    bucket.at = now;
  };

  const makeRoom = (now: number): void => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now);
      if (bucket.tokens >= options.burst) buckets.delete(key);
    }
    while (buckets.size >= maxKeys) {
      const oldest = buckets.keys().next();
      if (oldest.done) break;
      buckets.delete(oldest.value);
    }
  };

  return {
    take(key) {
      const now = clock.now();
      let bucket = buckets.get(key);
      if (bucket) {
        buckets.delete(key); // re-inserted below: Map order is least recently used first
        refill(bucket, now);
      } else {
        if (buckets.size >= maxKeys) makeRoom(now);
        bucket = { tokens: options.burst, at: now };
      }
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { allowed: true };
      }
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / options.perSecond)) };
    },
  };
}
