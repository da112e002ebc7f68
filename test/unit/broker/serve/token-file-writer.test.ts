import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BrokerError } from "../../../../broker/errors.ts";
import { nextRewrite, retryDelay } from "../../../../broker/serve/token-file-timing.ts";
import { TokenFileWriter } from "../../../../broker/serve/token-file-writer.ts";

const MIN = 60_000;
const T0 = Date.parse("2030-01-01T00:00:00Z");

describe("nextRewrite", () => {
  it.each([
    // lifetime left, window, expected delay, inside window
    [60 * MIN, 15 * MIN, 45 * MIN, false],
    [60 * MIN, 5 * MIN, 55 * MIN, false],
    [15 * MIN + 5_000, 15 * MIN, 5_000, false],
    [15 * MIN + 4_999, 15 * MIN, 30_000, true],
    [10 * MIN, 15 * MIN, 30_000, true], // a 10-minute Keycloak token can never satisfy a 15-minute window
    [60_000, 15 * MIN, 15_000, true],
    [10_000, 15 * MIN, 5_000, true],
  ])("%i ms left, window %i ms → %i ms (inside: %s)", (left, window, delayMs, insideWindow) => {
    expect(nextRewrite({ expiresAtMs: T0 + left, nowMs: T0, rewriteBeforeMs: window })).toEqual({ delayMs, insideWindow });
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [5, 16_000],
    [6, 30_000],
    [50, 30_000],
  ])("retry after %i failures: %i ms", (failures, ms) => {
    expect(retryDelay(failures)).toBe(ms);
  });
});

describe("TokenFileWriter", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function harness(lifetimeMs: number, rewriteBeforeMs = 15 * MIN) {
    const writes: Array<{ at: number; data: string }> = [];
    const warnings: Array<Record<string, unknown> | undefined> = [];
    const state = { fail: undefined as Error | undefined };
    const source = {
      workloadToken: vi.fn((audience: "aws" | "azure") => {
        if (state.fail) return Promise.reject(state.fail);
        // The source refreshes its token when it is past half its life.
        const issued = T0 + Math.floor((Date.now() - T0) / (lifetimeMs / 2)) * (lifetimeMs / 2);
        return Promise.resolve({ token: `${audience}-token-issued-${(issued - T0) / 1000}`, expiresAt: new Date(issued + lifetimeMs) });
      }),
    };
    const writer = new TokenFileWriter({
      name: "azure-federated-token",
      path: "/run/cloud-broker/azure-federated-token",
      mode: 0o600,
      audience: "azure",
      rewriteBeforeMs,
      source,
      clock: { now: () => Date.now() },
      log: { debug() {}, info() {}, warn: (_m, f) => warnings.push(f), error() {} },
      write: (_path, data) => {
        writes.push({ at: Date.now() - T0, data });
        return Promise.resolve();
      },
    });
    return { writer, writes, warnings, source, state };
  }

  it("writes at start and again when the window is reached, so the file never holds less than the window", async () => {
    const { writer, writes } = harness(60 * MIN);
    await writer.start();
    expect(writer.ready()).toBe(true);
    expect(writes).toEqual([{ at: 0, data: "azure-token-issued-0" }]);
    await vi.advanceTimersByTimeAsync(45 * MIN - 1);
    expect(writes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(writes.map((w) => [w.at, w.data])).toEqual([
      [0, "azure-token-issued-0"],
      [45 * MIN, "azure-token-issued-1800"],
    ]);
    // The new token (issued at 30 min, expires at 90 min) is rewritten at 75 min.
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(writes.map((w) => w.at)).toEqual([0, 45 * MIN, 75 * MIN]);
    await writer.stop();
  });

  it("keeps the previous file and retries with backoff while the source fails, then recovers", async () => {
    const { writer, writes, warnings, state } = harness(60 * MIN);
    await writer.start();
    state.fail = new BrokerError("KEYCLOAK_UNAVAILABLE", "down");
    await vi.advanceTimersByTimeAsync(45 * MIN);
    expect(writes).toHaveLength(1);
    expect(writer.ready()).toBe(true);
    expect(warnings.at(-1)).toMatchObject({ code: "KEYCLOAK_UNAVAILABLE", retry_in_ms: 1000 });
    await vi.advanceTimersByTimeAsync(1000 + 2000 + 4000);
    expect(warnings.map((w) => w?.retry_in_ms)).toEqual([1000, 2000, 4000, 8000]);
    state.fail = undefined;
    await vi.advanceTimersByTimeAsync(8000);
    expect(writes).toHaveLength(2);
    await writer.stop();
  });

  it("is not ready once the file's token expired (the source stayed down)", async () => {
    const { writer, state } = harness(60 * MIN);
    await writer.start();
    state.fail = new BrokerError("KEYCLOAK_UNAVAILABLE", "down");
    await vi.advanceTimersByTimeAsync(60 * MIN);
    expect(writer.ready()).toBe(false);
    await writer.stop();
  });

  it("warns once when the token lives shorter than the window, and keeps the freshest token in the file", async () => {
    const { writer, writes, warnings } = harness(10 * MIN);
    await writer.start();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ seconds_left: 600, rewrite_before_seconds: 900 });
    await vi.advanceTimersByTimeAsync(20 * MIN);
    expect(warnings).toHaveLength(1);
    // The source rotates every 5 minutes; polling every 30 s puts each new token in the file within 30 s.
    expect(writes.map((w) => w.data)).toEqual([0, 300, 600, 900, 1200].map((s) => `azure-token-issued-${s}`));
    expect(writes.every((w, i) => w.at - i * 5 * MIN <= 30_000)).toBe(true);
    await writer.stop();
  });

  it("stops rewriting after stop()", async () => {
    const { writer, source } = harness(60 * MIN);
    await writer.start();
    await writer.stop();
    await vi.advanceTimersByTimeAsync(120 * MIN);
    expect(source.workloadToken).toHaveBeenCalledTimes(1);
  });
});
