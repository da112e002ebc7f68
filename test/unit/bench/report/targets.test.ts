import { describe, expect, it } from "vitest";
import { atLeast, atMost, below, describeTarget, exactly, meets, ratio, statusOf, type Target } from "../../../bench/report/targets.ts";

describe("targets", () => {
  it.each<[number, Target, boolean]>([
    [0.85, atLeast(0.85), true],
    [0.8499, atLeast(0.85), false],
    [1.99, below(2, "ms"), true],
    [2, below(2, "ms"), false],
    [13, atMost(13), true],
    [14, atMost(13), false],
    [1, exactly(1), true],
    [2, exactly(1), false],
    [0, exactly(1), false],
    [Number.NaN, atLeast(0), false],
    [Number.POSITIVE_INFINITY, atLeast(0), false],
  ])("%d against %j → %s", (value, target, expected) => {
    expect(meets(value, target)).toBe(expected);
    expect(statusOf(value, target)).toBe(expected ? "PASS" : "MISS");
  });

  it("ratio is NaN without a positive baseline", () => {
    expect(ratio(850, 1000)).toBe(0.85);
    expect(ratio(1, 0)).toBeNaN();
    expect(ratio(Number.NaN, 10)).toBeNaN();
  });

  it.each<[Target, string]>([
    [atLeast(0.85), "≥ 0.85"],
    [below(2, "ms"), "< 2 ms"],
    [atMost(13), "≤ 13"],
    [exactly(1), "= 1"],
  ])("describes %j as %s", (target, text) => {
    expect(describeTarget(target)).toBe(text);
  });
});
