/**
 * Smoke test of `npm run bench`'s machinery on the shared trust domain (its own realm, applied with
 * realm-sync): figure 4's cold-cache count and a short security fuzz run (the bench's generators and
 * the fault suite's) against the production bundle. The full bench (`npm run bench`) measures everything else; this keeps its counting honest
 * in `npm test`.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startWorld, type World } from "../bench/env/world.ts";
import { coldConcurrency } from "../bench/figures/amplification.ts";
import { fuzzFigure } from "../bench/figures/fuzz.ts";
import type { FigureContext } from "../bench/figures/serving.ts";

let world: World;
let ctx: FigureContext;

beforeAll(async () => {
  world = await startWorld(() => {}, { domain: inject("trustDomain") });
  ctx = { world, quick: true, log: () => {}, wants: () => true, fuzzCases: 300 };
});

afterAll(async () => {
  await world?.stop();
});

describe("bench smoke", () => {
  it("1,000 concurrent cold requests: exactly one Keycloak grant (counted by Keycloak) and one STS call (counted by the emulator)", async () => {
    const rows = await coldConcurrency(ctx);
    expect(rows.map((r) => [r.id, r.value, r.status])).toEqual([
      ["4-keycloak", 1, "PASS"],
      ["4-sts", 1, "PASS"],
    ]);
    expect(rows[0]!.details[0]).toMatch(/1000 × 200, 1 distinct AccessKeyId/);
  });

  it("fuzz: every case answered, no 5xx, no credential for an invalid request, while a valid control exchange gets one", async () => {
    const rows = Object.fromEntries((await fuzzFigure(ctx)).map((r) => [r.id, r]));
    // 300 from the bench's generators, about as many from the fault suite's (a few are refused by Node's own client).
    expect(rows["fuzz-cases"]?.value).toBeGreaterThanOrEqual(550);
    expect(rows["fuzz-cases"]?.details.join("\n")).toContain("control (a valid exchange) got credentials: yes");
    expect(rows["fuzz-5xx"], rows["fuzz-5xx"]?.details.join("\n")).toMatchObject({ value: 0, status: "PASS" });
    expect(rows["fuzz-leaks"], rows["fuzz-leaks"]?.details.join("\n")).toMatchObject({ value: 0, status: "PASS" });
  });
});
