import { describe, expect, it } from "vitest";
import { median, percentile, requestRate, summarizeLatencies } from "../../../bench/report/stats.ts";

describe("percentile (nearest rank)", () => {
  it.each([
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 75, 3],
    [[1, 2, 3, 4], 100, 4],
    [[5], 99, 5],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 10],
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 1, 1],
  ])("%j p%d = %d", (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });

  it("is NaN without samples and refuses a percentile outside (0, 100]", () => {
    expect(percentile([], 50)).toBeNaN();
    expect(() => percentile([1], 0)).toThrow(RangeError);
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it("p99 of 1,000 samples is the 990th smallest", () => {
    const samples = Array.from({ length: 1000 }, (_, i) => 1000 - i); // unsorted: 1000 … 1
    expect(summarizeLatencies(samples)).toEqual({ count: 1000, mean: 500.5, p50: 500, p90: 900, p99: 990, max: 1000 });
  });
});

describe("summaries", () => {
  it("does not modify its input", () => {
    const samples = [3, 1, 2];
    summarizeLatencies(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it("request rate is total requests over total time, not the mean of rates", () => {
    expect(
      requestRate([
        { requests: 1000, seconds: 1 },
        { requests: 3000, seconds: 3 },
      ]),
    ).toBe(1000);
    expect(
      requestRate([
        { requests: 100, seconds: 1 },
        { requests: 900, seconds: 9 },
      ]),
    ).toBe(100);
    expect(requestRate([])).toBeNaN();
  });

  it.each([
    [[], NaN],
    [[3], 3],
    [[3, 1], 2],
    [[5, 1, 3], 3],
  ])("median %j = %d", (values, expected) => {
    expect(median(values)).toEqual(expected);
  });
});
