import { describe, expect, it } from "vitest";
import { formatPerSecond, spreadOf } from "../../../bench/report/spread.ts";

describe("spreadOf", () => {
  it("counts the calls in [from, to] per whole second since from", () => {
    const spread = spreadOf([500, 1000, 1500, 1999, 2000, 4100, 9000], 1000, 4500);
    expect(spread.perSecond).toEqual([3, 1, 0, 1]);
    expect(spread.total).toBe(5);
    expect(spread.busiest).toBe(3);
    expect(spread.busiestShare).toBeCloseTo(3 / 5);
  });

  it("gives one call a share of 1 and no call a NaN share", () => {
    expect(spreadOf([7000], 5000, 10_000).busiestShare).toBe(1);
    const none = spreadOf([1, 2], 5000, 10_000);
    expect(none.total).toBe(0);
    expect(none.busiest).toBe(0);
    expect(none.busiestShare).toBeNaN();
  });

  it("has no second at all for an empty interval", () => {
    expect(spreadOf([0], 10, 5).perSecond).toEqual([]);
  });
});

describe("formatPerSecond", () => {
  it("leaves out seconds without calls", () => {
    expect(formatPerSecond([2, 0, 5, 1])).toBe("0s:2 2s:5 3s:1");
    expect(formatPerSecond([])).toBe("");
  });
});
