/**
 * At most one token request open per audience, and what a caller does when Keycloak is slow.
 *
 * A token request that outlasts the caller's wait is ambiguous: Keycloak may still issue the
 * token (and count the grant). Abandoning it and asking again doubles the work of a Keycloak that
 * is already too slow, which is how a fleet starting at once or coming back from an outage turns
 * a slow server into a saturated one. So a caller whose wait runs out gets an error (the cache
 * backs off and keeps serving what it holds), but the request stays open; the next caller for that
 * audience waits for the same answer instead of sending another request, and an answer that
 * arrives while nobody waits is kept for the next caller (while {@link lateTokenUsable}).
 */
import type { WorkloadToken } from "./token-source.ts";

interface Open<T> {
  answer: Promise<T>;
  waiters: number;
  /** A successful answer that arrived while nobody waited, and when it arrived. */
  unclaimed?: { value: T; at: number };
}

export interface OpenGrantsOptions<T> {
  /** How long one caller waits for an answer before it gets {@link OpenGrantsOptions.waitedTooLong}. */
  waitMs: number;
  waitedTooLong(waitMs: number): Error;
  /** Whether an answer that arrived at `at` and was not claimed then is still worth handing out at `now`. */
  usable(value: T, at: number, now: number): boolean;
  now(): number;
}

export class OpenGrants<T> {
  private readonly open = new Map<string, Open<T>>();

  constructor(private readonly options: OpenGrantsOptions<T>) {}

  /** The answer of the request open for `key` (or of a new one, sent by `send`), waited for at most `waitMs`. */
  get(key: string, send: () => Promise<T>): Promise<T> {
    let open = this.open.get(key);
    if (open?.unclaimed) {
      this.open.delete(key);
      if (this.options.usable(open.unclaimed.value, open.unclaimed.at, this.options.now())) return Promise.resolve(open.unclaimed.value);
      open = undefined;
    }
    if (!open) open = this.send(key, send);
    return this.wait(open);
  }

  /** How many requests are open (for tests and metrics). */
  get size(): number {
    let n = 0;
    for (const o of this.open.values()) if (!o.unclaimed) n += 1;
    return n;
  }

  private send(key: string, send: () => Promise<T>): Open<T> {
    const open: Open<T> = { answer: send(), waiters: 0 };
    this.open.set(key, open);
    open.answer.then(
      (value) => {
        if (this.open.get(key) !== open) return;
        if (open.waiters > 0) this.open.delete(key);
        else open.unclaimed = { value, at: this.options.now() };
      },
      () => {
        // An error is only worth something to a caller waiting now; the next caller asks again.
        if (this.open.get(key) === open) this.open.delete(key);
      },
    );
    return open;
  }

  /** Settling needs no counting out: the open request's own handler (registered first) already ran. */
  private wait(open: Open<T>): Promise<T> {
    open.waiters += 1;
    const { waitMs } = this.options;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waitedTooLong = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        open.waiters -= 1;
        reject(this.options.waitedTooLong(waitMs));
      }, waitMs);
    });
    return Promise.race([open.answer, waitedTooLong]).finally(() => clearTimeout(timer));
  }
}

/**
 * A token that arrived late is handed out while less than half its lifetime (counted from its
 * arrival) has passed: after that the cache would refresh it at once anyway (the refresh window
 * opens at most half a lifetime before the end, broker/cache/policy.ts).
 */
export function lateTokenUsable(token: WorkloadToken, at: number, now: number): boolean {
  return now < at + (token.expiresAt.getTime() - at) / 2;
}
