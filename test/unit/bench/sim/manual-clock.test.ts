import { describe, expect, it } from "vitest";
import { ManualClock } from "../../../bench/sim/manual-clock.ts";

describe("ManualClock", () => {
  it("fires due timers in time order, at their own time, and ends at the target", async () => {
    const clock = new ManualClock(1_000);
    const seen: Array<[string, number]> = [];
    clock.setTimeout(() => seen.push(["b", clock.now()]), 200);
    clock.setTimeout(() => seen.push(["a", clock.now()]), 100);
    clock.setTimeout(() => seen.push(["late", clock.now()]), 5_000);
    await clock.advanceTo(2_000);
    expect(seen).toEqual([
      ["a", 1_100],
      ["b", 1_200],
    ]);
    expect(clock.now()).toBe(2_000);
    expect(clock.pending).toBe(1);
  });

  it("fires timers set by fired timers when they fall due, settling after each", async () => {
    const clock = new ManualClock(0);
    const seen: number[] = [];
    let settled = 0;
    const tick = () => {
      seen.push(clock.now());
      clock.setTimeout(tick, 1_000);
    };
    clock.setTimeout(tick, 1_000);
    await clock.advanceTo(3_500, async () => {
      settled += 1;
      await Promise.resolve();
    });
    expect(seen).toEqual([1_000, 2_000, 3_000]);
    expect(settled).toBe(3);
  });

  it("cancels timers and refuses to go back", async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const handle = clock.setTimeout(() => fired.push("x"), 10);
    clock.clearTimeout(handle);
    await clock.advanceTo(100);
    expect(fired).toEqual([]);
    await expect(clock.advanceTo(50)).rejects.toThrow(RangeError);
  });
});
