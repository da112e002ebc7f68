import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, retryDelay, schedule, type TimingPolicy } from "../../../../broker/cache/policy.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const BOTOCORE_ADVISORY_REFRESH_MS = 15 * MIN;

describe("schedule", () => {
  it.each([
    // lifetime, random, refresh after (min), stop serving after (min)
    ["1 h credentials, no jitter", HOUR, 0, 40, 55],
    ["1 h credentials, full jitter", HOUR, 1, 38, 55],
    ["12 h credentials", 12 * HOUR, 0, 12 * 60 - 20, 12 * 60 - 5],
    ["15 min credentials (STS minimum): both windows capped by the lifetime", 15 * MIN, 0, 7.5, 11.25],
    ["15 min credentials, full jitter capped at a quarter of the ahead window", 15 * MIN, 1, 5.625, 11.25],
    ["10 min Keycloak token", 10 * MIN, 0, 5, 7.5],
  ])("%s", (_what, lifetime, random, refreshAfterMin, stopAfterMin) => {
    const fetchedAt = 1_700_000_000_000;
    const s = schedule(fetchedAt, fetchedAt + lifetime, DEFAULT_POLICY, () => random);
    expect((s.refreshAt - fetchedAt) / MIN).toBeCloseTo(refreshAfterMin, 6);
    expect((s.stopAt - fetchedAt) / MIN).toBeCloseTo(stopAfterMin, 6);
  });

  it("keeps fetchedAt ≤ refreshAt < stopAt < expiresAt for any lifetime, jitter and valid policy", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1_000, max: 43_200_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.integer({ min: 60, max: 43_200 }),
        fc.integer({ min: 0, max: 3_600 }),
        fc.integer({ min: 0, max: 3_599 }),
        (lifetime, random, aheadS, jitterS, stopS) => {
          fc.pre(stopS < aheadS);
          const policy: TimingPolicy = { ...DEFAULT_POLICY, aheadMs: aheadS * 1000, jitterMs: jitterS * 1000, stopServingMs: stopS * 1000 };
          const s = schedule(0, lifetime, policy, () => random);
          expect(s.refreshAt).toBeGreaterThanOrEqual(0);
          expect(s.refreshAt).toBeLessThan(s.stopAt);
          expect(s.stopAt).toBeLessThanOrEqual(lifetime);
          if (stopS > 0) expect(s.stopAt).toBeLessThan(lifetime);
        },
      ),
    );
  });

  it("never lets credentials of 40 min or more reach botocore's 15-min refresh window before the broker refreshes", () => {
    fc.assert(
      fc.property(fc.integer({ min: 40 * MIN, max: 12 * HOUR }), fc.double({ min: 0, max: 1, noNaN: true }), (lifetime, random) => {
        const s = schedule(0, lifetime, DEFAULT_POLICY, () => random);
        expect(lifetime - s.refreshAt).toBeGreaterThan(BOTOCORE_ADVISORY_REFRESH_MS);
      }),
    );
  });
});

describe("retryDelay", () => {
  it.each([
    [1, 500, 1_000],
    [2, 1_000, 2_000],
    [3, 2_000, 4_000],
    [6, 15_000, 30_000],
    [50, 15_000, 30_000],
  ])("after %i failure(s) waits between %i and %i ms", (failures, min, max) => {
    expect(retryDelay(failures, DEFAULT_POLICY, () => 0)).toBe(min);
    expect(retryDelay(failures, DEFAULT_POLICY, () => 1)).toBe(max);
    expect(retryDelay(failures, DEFAULT_POLICY, () => 0.5)).toBe((min + max) / 2);
  });
});

/** A small deterministic generator (mulberry32), so the fleet simulations below are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `fleet` credentials all fail at the same instant (an outage starts) and retry by `retryDelay`
 * until the upstream returns at `returnAt`: each one's first attempt at or after the return.
 */
function firstAttemptsAfterReturn(fleet: number, returnAt: number, policy: TimingPolicy, random: () => number): number[] {
  const attempts: number[] = [];
  for (let i = 0; i < fleet; i++) {
    let t = 0;
    for (let failures = 1; t < returnAt; failures++) t += retryDelay(failures, policy, random);
    attempts.push(t);
  }
  return attempts;
}

const busiestSecondShare = (times: readonly number[], from: number) => {
  const perSecond = new Map<number, number>();
  for (const t of times) perSecond.set(Math.floor((t - from) / 1000), (perSecond.get(Math.floor((t - from) / 1000)) ?? 0) + 1);
  return Math.max(...perSecond.values()) / times.length;
};

describe("retryDelay across a fleet (what `npm run bench` figure 9 measures against real Keycloak)", () => {
  it.each([45_000, 90_000, 137_000, 600_000])(
    "500 credentials failing together: after a return at %i ms each retries within the cap, and no second carries a quarter of them",
    (returnAt) => {
      const attempts = firstAttemptsAfterReturn(500, returnAt, DEFAULT_POLICY, seeded(returnAt));
      expect(Math.max(...attempts) - returnAt).toBeLessThanOrEqual(DEFAULT_POLICY.retryMaxMs);
      expect(busiestSecondShare(attempts, returnAt)).toBeLessThanOrEqual(0.25);
    },
  );

  it("without the random half every credential retries in the same second (what the jitter prevents)", () => {
    const attempts = firstAttemptsAfterReturn(500, 90_000, DEFAULT_POLICY, () => 0.5);
    expect(busiestSecondShare(attempts, 90_000)).toBe(1);
  });

  it("leaves room for a second attempt within 60 s of the upstream's return (a server still warming up may fail the first)", () => {
    expect(2 * DEFAULT_POLICY.retryMaxMs).toBeLessThanOrEqual(60_000);
  });
});
