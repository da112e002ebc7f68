import { describe, expect, it } from "vitest";
import { refreshArithmetic } from "../../../bench/report/refresh-arithmetic.ts";

const TWELVE_HOURS_MIN = 12 * 60;

describe("refreshArithmetic (figure 4's 12-hour bound)", () => {
  it("allows 20 STS calls in 12 h for 1-hour credentials under the default policy (refresh 20 + 0–2 min ahead)", () => {
    expect(refreshArithmetic(TWELVE_HOURS_MIN, 60, 20, 2)).toEqual({ calls: 20, leadMin: 22, leadOutsideSdks: true });
  });

  it("allows 7 calls for 2-hour credentials", () => {
    expect(refreshArithmetic(TWELVE_HOURS_MIN, 120, 20, 2).calls).toBe(Math.ceil(720 / 98) + 1);
  });

  it("caps ahead at half the lifetime and the jitter at a quarter of ahead", () => {
    const r = refreshArithmetic(TWELVE_HOURS_MIN, 30, 20, 10);
    expect(r.leadMin).toBe(15 + 3.75);
    expect(r.calls).toBe(Math.ceil(720 / 11.25) + 1);
  });

  it("flags a lead inside botocore's 15-minute refresh window", () => {
    expect(refreshArithmetic(TWELVE_HOURS_MIN, 60, 15, 2).leadOutsideSdks).toBe(false);
    expect(refreshArithmetic(TWELVE_HOURS_MIN, 60, 16, 2).leadOutsideSdks).toBe(true);
    // 15-minute credentials: ahead is capped at 7.5 min, inside botocore's window whatever is configured.
    expect(refreshArithmetic(TWELVE_HOURS_MIN, 15, 20, 2).leadOutsideSdks).toBe(false);
  });
});
