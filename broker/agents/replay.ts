/**
 * Remembers actor-token ids until their tokens expire, so each actor token is used once
 * (RFC 7519 §4.1.7). Bounded: at most `maxEntries`; expired entries are swept when room is needed,
 * and when none has expired the cache answers `"full"` instead of forgetting a live id (which would
 * re-open the replay window). Clock injected.
 */
import type { Clock } from "../clock.ts";
import type { ReplayCache } from "./ports.ts";

export function memoryReplayCache(options: { maxEntries?: number }, clock: Clock): ReplayCache {
  const maxEntries = options.maxEntries ?? 100_000;
  const seen = new Map<string, number>();

  const sweep = (now: number): void => {
    for (const [key, expiresAt] of seen) if (expiresAt <= now) seen.delete(key);
  };

  return {
    remember(key, expiresAtMs) {
      const now = clock.now();
      const known = seen.get(key);
      if (known !== undefined && known > now) return "replayed";
      if (known === undefined && seen.size >= maxEntries) {
        sweep(now);
        if (seen.size >= maxEntries) return "full";
      }
      seen.set(key, expiresAtMs);
      return "fresh";
    },
  };
}
