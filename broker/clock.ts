/**
 * Time as the broker sees it: injected everywhere, so tests freeze it, skew it or move it by hand.
 * One shape: `now()` in milliseconds since the epoch. The credential cache also schedules its
 * refreshes, so it takes the same clock with timers ({@link TimerClock}).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

/** A {@link Clock} that also schedules: what the refreshing cache needs. */
export interface TimerClock extends Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Timers are `unref`'d: a pending refresh never keeps the process alive.
 * `setTimeout` is looked up at call time, so vitest's fake timers replace it too.
 */
export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};
