import { describe, expect, it } from "vitest";
import { areaOf, cpuPerRequestUs, profileLines, summarizeCpuProfile, type CpuProfile } from "../../../bench/report/cpu-profile.ts";

const frame = (id: number, functionName: string, url: string, lineNumber = 0) => ({ id, callFrame: { functionName, url, lineNumber } });

const profile: CpuProfile = {
  startTime: 0,
  endTime: 2_000_000,
  nodes: [
    frame(1, "(root)", ""),
    frame(2, "(idle)", ""),
    frame(3, "dispatch", "file:///repo/node_modules/hono/dist/hono-base.js", 9),
    frame(4, "awsContainerHandler", "file:///repo/broker/serve/aws-container.ts", 41),
    frame(5, "(garbage collector)", ""),
    frame(6, "writeHead", "node:_http_server", 100),
    frame(7, "parse", "file:///repo/node_modules/@hono/node-server/dist/index.mjs", 1),
  ],
  samples: [2, 2, 2, 2, 3, 3, 3, 4, 5, 6, 7, 3],
};

describe("CPU profile summary", () => {
  it("attributes self time to functions and areas, idle excluded from the shares", () => {
    const summary = summarizeCpuProfile(profile, 3);
    expect(summary.sampledMs).toBe(2000);
    expect(summary.idle).toBeCloseTo(4 / 12);
    expect(summary.topFunctions[0]).toEqual({ name: "dispatch hono/dist/hono-base.js:10", share: 0.5 });
    expect(summary.topFunctions).toHaveLength(3);
    expect(summary.areas.map((a) => a.name)).toEqual(["hono", "broker/serve", "(garbage collector)"]);
    expect(summary.areas[0]!.share).toBe(0.5);
  });

  it.each([
    ["file:///r/node_modules/@hono/node-server/dist/index.mjs", "f", "@hono/node-server"],
    ["file:///r/node_modules/jose/dist/webapi/jwt/verify.js", "f", "jose"],
    ["node:internal/streams/readable", "f", "node:internal"],
    ["file:///r/broker/agents/verify/verifier.ts", "f", "broker/agents"],
    ["file:///r/broker/app.ts", "f", "broker/app"],
    ["file:///r/dist/cloud-broker.mjs", "f", "dist bundle"],
    ["", "(garbage collector)", "(garbage collector)"],
    ["", "(program)", "(program: native/V8)"],
  ])("area of %s is %s", (url, fn, area) => {
    expect(areaOf(url, fn)).toBe(area);
  });

  it("renders lines with percentages", () => {
    const lines = profileLines(summarizeCpuProfile(profile, 2), "the broker");
    expect(lines[0]).toContain("CPU profile of the broker: 2.0 s sampled, 33 % idle");
    expect(lines[1]).toContain("hono 50.0 %");
    expect(lines[2]).toMatch(/50\.0 %\s+dispatch hono/);
  });
});

describe("CPU profile window", () => {
  it("leaves out the samples before fromMs (start-up)", () => {
    const timed: CpuProfile = { ...profile, startTime: 0, endTime: 12_000, timeDeltas: Array.from({ length: 12 }, () => 1_000) };
    // samples at t = 1, 2, …, 12 ms; from 8 ms on: [6, 7, 3] at 10, 11, 12 ms… and 5 at 9, 4 at 8
    const summary = summarizeCpuProfile(timed, 10, 8);
    expect(summary.sampledMs).toBe(4);
    expect(summary.idle).toBe(0);
    expect(summary.topFunctions.map((f) => f.name).sort()).toEqual([
      "(garbage collector)",
      "awsContainerHandler broker/serve/aws-container.ts:42",
      "dispatch hono/dist/hono-base.js:10",
      "parse @hono/node-server/dist/index.mjs:2",
      "writeHead node:_http_server:101",
    ]);
  });
});

describe("CPU profile callers", () => {
  it("names the nearest named JavaScript caller of the top frames", () => {
    const tree: CpuProfile = {
      startTime: 0,
      endTime: 1_000,
      nodes: [
        { id: 1, callFrame: { functionName: "(root)", url: "", lineNumber: -1 }, children: [2, 5] },
        {
          id: 2,
          callFrame: { functionName: "respond", url: "file:///r/node_modules/@hono/node-server/dist/index.mjs", lineNumber: 9 },
          children: [3],
        },
        {
          id: 3,
          callFrame: { functionName: "", url: "file:///r/node_modules/@hono/node-server/dist/index.mjs", lineNumber: 20 },
          children: [4],
        },
        { id: 4, callFrame: { functionName: "writev", url: "", lineNumber: -1 } },
        { id: 5, callFrame: { functionName: "log", url: "file:///r/broker/log.ts", lineNumber: 4 }, children: [6] },
        { id: 6, callFrame: { functionName: "writev", url: "", lineNumber: -1 } },
      ],
      samples: [4, 4, 4, 6],
    };
    const [top] = summarizeCpuProfile(tree, 1).topFunctions;
    expect(top).toEqual({
      name: "writev",
      share: 1,
      callers: ["respond @hono/node-server/dist/index.mjs:10 (75 %)", "log broker/log.ts:5 (25 %)"],
    });
    expect(profileLines(summarizeCpuProfile(tree, 1), "x")[2]).toContain(
      "writev  ← respond @hono/node-server/dist/index.mjs:10 (75 %), log broker/log.ts:5 (25 %)",
    );
  });
});

describe("CPU per request", () => {
  it("spreads the busy fraction of one thread over the requests served", () => {
    expect(cpuPerRequestUs({ idle: 0.2 }, 20_000)).toBeCloseTo(40);
    expect(cpuPerRequestUs({ idle: 0 }, 0)).toBeNaN();
    expect(profileLines(summarizeCpuProfile(profile, 1), "the broker", 1_000)[0]).toContain(
      "1,000 req/s ≈ 666.7 µs of main-thread CPU per request",
    );
  });
});
