/** Time as the cache sees it: injected, so tests drive it with fake timers or by hand. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Timers are `unref`'d: a pending refresh never keeps the process alive.
 * `setTimeout` is looked up at call time, so vitest's fake timers replace it too.
 */
export const systemClock: Clock = {
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
