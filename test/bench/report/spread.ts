/**
 * How upstream calls spread over time (figure 9: a fleet's recovery after an outage). Pure.
 */

export interface Spread {
  /** Calls counted (those in `[from, to]`). */
  total: number;
  /** Calls per whole second since `from`, index 0 = the first second. */
  perSecond: number[];
  /** The most calls any one second carried. */
  busiest: number;
  /** `busiest / total`; `NaN` when no call was counted. */
  busiestShare: number;
}

/**
 * The calls at `times` (ms) that fall in `[from, to]`, counted per second since `from`.
 *
 * @example spreadOf([1000, 1500, 2100], 1000, 3000) // perSecond [2, 1], busiest 2, busiestShare 2/3
 */
export function spreadOf(times: readonly number[], from: number, to: number): Spread {
  const perSecond: number[] = new Array<number>(Math.max(0, Math.floor((to - from) / 1000) + 1)).fill(0);
  let total = 0;
  for (const t of times) {
    if (t < from || t > to) continue;
    const second = Math.floor((t - from) / 1000);
    perSecond[second] = (perSecond[second] ?? 0) + 1;
    total += 1;
  }
  const busiest = Math.max(0, ...perSecond);
  return { total, perSecond, busiest, busiestShare: total > 0 ? busiest / total : Number.NaN };
}

/** `0s:12 1s:30 …`, seconds with no call left out. */
export function formatPerSecond(perSecond: readonly number[]): string {
  return perSecond.flatMap((n, s) => (n > 0 ? [`${s}s:${n}`] : [])).join(" ");
}
