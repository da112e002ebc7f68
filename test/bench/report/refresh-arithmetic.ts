/**
 * How many upstream calls the broker's refresh policy allows per target over a period: the
 * regression guard of figure 4's 12-hour count. Restated from the policy's documentation
 * (broker/cache/policy.ts), not computed by its code, so a change of the code that refreshes more
 * often shows as a MISS. Pure.
 */

/**
 * AWS SDKs' own refresh windows for container credentials (minutes before expiry): botocore's
 * advisory 15 min (`_advisory_refresh_timeout`), the JS SDK's 5 min. The broker's lead must be
 * longer than every one of them, or SDKs would be handed credentials they consider due.
 */
export const SDK_REFRESH_WINDOWS_MIN = { botocore: 15, "aws-sdk-js-v3": 5 } as const;

export interface RefreshArithmetic {
  /** At most this many calls per target: ⌈period / (lifetime − longest lead)⌉ + 1. */
  calls: number;
  /** The longest lead (minutes): ahead (capped at half the lifetime) + the whole jitter (capped at a quarter of ahead). */
  leadMin: number;
  /** The shortest lead (ahead, capped) is outside every SDK's refresh window. */
  leadOutsideSdks: boolean;
}

/**
 * One call per (lifetime − longest lead) of the period, plus the first.
 *
 * @example refreshArithmetic(12 * 60, 60, 20, 2) // { calls: 20, leadMin: 22, leadOutsideSdks: true }
 */
export function refreshArithmetic(periodMin: number, lifetimeMin: number, aheadMin: number, jitterMin: number): RefreshArithmetic {
  const ahead = Math.min(aheadMin, lifetimeMin / 2);
  const leadMin = ahead + Math.min(jitterMin, ahead / 4);
  return {
    calls: Math.ceil(periodMin / (lifetimeMin - leadMin)) + 1,
    leadMin,
    leadOutsideSdks: Object.values(SDK_REFRESH_WINDOWS_MIN).every((window) => ahead > window),
  };
}
