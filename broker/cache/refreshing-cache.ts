/**
 * A cache of expiring values (credentials, tokens) that sits in front of the function fetching
 * them and has the same shape: `get(key)` resolves like `fetch(key)` would, only mostly without
 * calling it. Modeled on eks-pod-identity-agent's cached credential retriever:
 *
 * - keyed by target, never by a token;
 * - concurrent misses for a key share one upstream call (single flight);
 * - refresh ahead of expiry with jitter ({@link schedule}); keys being kept warm refresh in the
 *   background, others on the first request inside the refresh window;
 * - while a refresh fails the current value keeps being served until `stopAt`; after that the
 *   caller gets the `expiring` error (retryable) instead of credentials about to expire;
 * - an irrecoverable upstream error evicts the value at once;
 * - failures back off exponentially, and a miss during the backoff fails fast with the last error
 *   rather than hammering the upstream.
 */
import { systemClock, type TimerClock } from "../clock.ts";
import { retryDelay, schedule, type TimingPolicy } from "./policy.ts";

export interface Fetched<T> {
  value: T;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

export interface Cached<T> extends Fetched<T> {
  fetchedAt: number;
  refreshAt: number;
  stopAt: number;
}

export type Fetch<T> = (key: string) => Promise<Fetched<T>>;

/** What the cache reports, for metrics and logs. */
export interface CacheObserver {
  hit?(key: string): void;
  miss?(key: string): void;
  fetched?(
    key: string,
    outcome:
      | { ok: true; durationMs: number; expiresAt: number; background: boolean }
      | { ok: false; durationMs: number; error: unknown; background: boolean },
  ): void;
  evicted?(key: string, error: unknown): void;
}

export interface RefreshingCacheOptions<T> {
  fetch: Fetch<T>;
  policy: TimingPolicy;
  /** Whether an upstream error means the value must not be served any more (e.g. access revoked). */
  isIrrecoverable(error: unknown): boolean;
  /** The error for a caller whose value is inside its stop window while the refresh fails. */
  expiringError(key: string, cause: unknown): Error;
  clock?: TimerClock;
  random?: () => number;
  observer?: CacheObserver;
}

export interface KeyStatus {
  /** A value is held and may be served right now. */
  ready: boolean;
  expiresAt?: number;
  lastError?: unknown;
}

interface Entry<T> {
  current: Cached<T> | undefined;
  inflight: Promise<Cached<T>> | undefined;
  failures: number;
  lastError: unknown;
  nextAttemptAt: number;
  warm: boolean;
  timer: unknown;
}

export class RefreshingCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly clock: TimerClock;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly options: RefreshingCacheOptions<T>) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /** A servable value for `key`: from the cache, or fetched (one upstream call however many callers wait). */
  async get(key: string): Promise<Cached<T>> {
    const hit = this.getIfServable(key);
    if (hit) return hit;
    const entry = this.entry(key);
    const now = this.clock.now();
    this.options.observer?.miss?.(key);
    if (!entry.inflight && entry.lastError !== undefined && now < entry.nextAttemptAt) {
      throw this.failure(key, entry.current, entry.lastError);
    }
    const previous = entry.current;
    try {
      return await (entry.inflight ?? this.start(key, entry, false));
    } catch (error) {
      throw this.failure(key, previous, error);
    }
  }

  /**
   * The hit path of {@link get}, synchronously (the serving fast lane): the servable value, counted
   * as a hit and refreshed in the background when due; `undefined` when `get` would have to wait.
   */
  getIfServable(key: string): Cached<T> | undefined {
    const entry = this.entries.get(key);
    const current = entry?.current;
    const now = this.clock.now();
    if (!entry || !current || now >= current.stopAt) return undefined;
    this.options.observer?.hit?.(key);
    if (now >= current.refreshAt) this.refreshInBackground(key, entry);
    return current;
  }

  /** The servable value, if one is held; never fetches. */
  peek(key: string): Cached<T> | undefined {
    const current = this.entries.get(key)?.current;
    return current && this.clock.now() < current.stopAt ? current : undefined;
  }

  /**
   * Keeps `keys` fresh without waiting for requests: fetches each now, then again at its refresh
   * time (or after a backoff when the fetch failed). Errors are reported to the observer only.
   */
  warm(keys: readonly string[]): void {
    for (const key of keys) {
      const entry = this.entry(key);
      entry.warm = true;
      this.refreshInBackground(key, entry);
    }
  }

  /** Drops the held value of `key` (the next get fetches); e.g. when a downstream rejected it. */
  invalidate(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.current = undefined;
  }

  status(key: string): KeyStatus {
    const entry = this.entries.get(key);
    const current = entry?.current;
    return {
      ready: current !== undefined && this.clock.now() < current.stopAt,
      ...(current && { expiresAt: current.expiresAt }),
      ...(entry?.lastError !== undefined && { lastError: entry.lastError }),
    };
  }

  /** Cancels every background refresh; in-flight fetches finish but schedule nothing. */
  stop(): void {
    this.stopped = true;
    for (const entry of this.entries.values()) this.clearTimer(entry);
  }

  private entry(key: string): Entry<T> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {
        current: undefined,
        inflight: undefined,
        failures: 0,
        lastError: undefined,
        nextAttemptAt: 0,
        warm: false,
        timer: undefined,
      };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private refreshInBackground(key: string, entry: Entry<T>): void {
    if (this.stopped || entry.inflight || this.clock.now() < entry.nextAttemptAt) return;
    this.start(key, entry, true).catch(() => {
      // Reported to the observer; the current value (if any) keeps being served.
    });
  }

  private start(key: string, entry: Entry<T>, background: boolean): Promise<Cached<T>> {
    this.clearTimer(entry);
    const started = this.clock.now();
    const inflight = this.options
      .fetch(key)
      .then((fetched) => {
        const now = this.clock.now();
        if (!(fetched.expiresAt > now))
          throw new RangeError(`upstream returned a value for ${key} that expired at ${new Date(fetched.expiresAt).toISOString()}`);
        const cached: Cached<T> = { ...fetched, fetchedAt: now, ...schedule(now, fetched.expiresAt, this.options.policy, this.random) };
        entry.current = cached;
        entry.failures = 0;
        entry.lastError = undefined;
        entry.nextAttemptAt = 0;
        this.options.observer?.fetched?.(key, { ok: true, durationMs: now - started, expiresAt: fetched.expiresAt, background });
        this.arm(key, entry, cached.refreshAt);
        return cached;
      })
      .catch((error: unknown) => {
        const now = this.clock.now();
        entry.failures += 1;
        entry.lastError = error;
        entry.nextAttemptAt = now + retryDelay(entry.failures, this.options.policy, this.random);
        this.options.observer?.fetched?.(key, { ok: false, durationMs: now - started, error, background });
        if (entry.current && this.options.isIrrecoverable(error)) {
          entry.current = undefined;
          this.options.observer?.evicted?.(key, error);
        }
        this.arm(key, entry, entry.nextAttemptAt);
        throw error;
      })
      .finally(() => {
        if (entry.inflight === inflight) entry.inflight = undefined;
      });
    entry.inflight = inflight;
    return inflight;
  }

  /** Schedules the next background refresh of a warm key. */
  private arm(key: string, entry: Entry<T>, at: number): void {
    if (!entry.warm || this.stopped) return;
    this.clearTimer(entry);
    entry.timer = this.clock.setTimeout(
      () => {
        entry.timer = undefined;
        this.refreshInBackground(key, entry);
      },
      Math.max(0, at - this.clock.now()),
    );
  }

  private clearTimer(entry: Entry<T>): void {
    if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** What a caller sees when no servable value could be had. */
  private failure(key: string, previous: Cached<T> | undefined, error: unknown): unknown {
    if (this.options.isIrrecoverable(error)) return error;
    return previous ? this.options.expiringError(key, error) : error;
  }
}
