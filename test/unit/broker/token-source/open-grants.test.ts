/**
 * One token request open per audience: a caller that waited too long leaves the request open, the
 * next caller waits for the same answer, and a late answer nobody waited for is kept for the next one.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { lateTokenUsable, OpenGrants } from "../../../../broker/token-source/open-grants.ts";

const WAIT_MS = 10_000;

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** OpenGrants over string answers that are usable for `keepMs` after they arrive; `sends` counts requests. */
function grants(keepMs = Number.POSITIVE_INFINITY) {
  const answers: Array<ReturnType<typeof deferred<string>>> = [];
  const open = new OpenGrants<string>({
    waitMs: WAIT_MS,
    waitedTooLong: (ms) => Object.assign(new Error(`waited ${ms} ms`), { code: "WAITED" }),
    usable: (_v, at, now) => now - at < keepMs,
    now: () => Date.now(),
  });
  const send = () => {
    const d = deferred<string>();
    answers.push(d);
    return d.promise;
  };
  return { open, answers, get: (key = "aws") => open.get(key, send) };
}

const outcome = (p: Promise<string>) =>
  p.then(
    (v) => ({ value: v }),
    (e: Error) => ({ error: e.message }),
  );

describe("OpenGrants", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands a prompt answer to its caller and sends again for the next", async () => {
    const g = grants();
    const first = g.get();
    g.answers[0]!.resolve("t1");
    await expect(first).resolves.toBe("t1");
    const second = g.get();
    expect(g.answers).toHaveLength(2);
    g.answers[1]!.resolve("t2");
    await expect(second).resolves.toBe("t2");
    expect(g.open.size).toBe(0);
  });

  it("shares one request between concurrent callers of a key, not across keys", async () => {
    const g = grants();
    const a = g.get("aws");
    const b = g.get("aws");
    const c = g.get("azure");
    expect(g.answers).toHaveLength(2);
    g.answers[0]!.resolve("aws-token");
    g.answers[1]!.resolve("azure-token");
    expect(await Promise.all([a, b, c])).toEqual(["aws-token", "aws-token", "azure-token"]);
  });

  it("fails a caller that waited too long but keeps the request open for the next caller", async () => {
    const g = grants();
    const first = outcome(g.get());
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    expect(await first).toEqual({ error: `waited ${WAIT_MS} ms` });
    expect(g.open.size).toBe(1);
    const second = g.get();
    expect(g.answers).toHaveLength(1); // no second request
    await vi.advanceTimersByTimeAsync(3_000);
    g.answers[0]!.resolve("late");
    await expect(second).resolves.toBe("late");
    expect(g.open.size).toBe(0);
  });

  it("keeps an answer that arrived while nobody waited for the next caller, once", async () => {
    const g = grants();
    const first = outcome(g.get());
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    await first;
    g.answers[0]!.resolve("late");
    await vi.advanceTimersByTimeAsync(0);
    expect(g.open.size).toBe(0);
    await expect(g.get()).resolves.toBe("late");
    expect(g.answers).toHaveLength(1);
    void g.get();
    expect(g.answers).toHaveLength(2); // claimed once only
  });

  it("sends again when the unclaimed answer is no longer usable", async () => {
    const g = grants(5_000);
    const first = outcome(g.get());
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    await first;
    g.answers[0]!.resolve("late");
    await vi.advanceTimersByTimeAsync(5_000);
    const next = g.get();
    expect(g.answers).toHaveLength(2);
    g.answers[1]!.resolve("fresh");
    await expect(next).resolves.toBe("fresh");
  });

  it("passes an error to the callers waiting and forgets it: the next caller asks again", async () => {
    const g = grants();
    const a = outcome(g.get());
    const b = outcome(g.get());
    g.answers[0]!.reject(new Error("HTTP 503"));
    expect(await Promise.all([a, b])).toEqual([{ error: "HTTP 503" }, { error: "HTTP 503" }]);
    void g.get();
    expect(g.answers).toHaveLength(2);
  });

  it("forgets an error nobody waited for", async () => {
    const g = grants();
    const first = outcome(g.get());
    await vi.advanceTimersByTimeAsync(WAIT_MS);
    await first;
    g.answers[0]!.reject(new Error("ECONNRESET"));
    await vi.advanceTimersByTimeAsync(0);
    void g.get();
    expect(g.answers).toHaveLength(2);
  });
});

describe("lateTokenUsable", () => {
  const token = (expiresAt: number) => ({ token: "x", expiresAt: new Date(expiresAt) });
  it.each([
    ["just arrived", 1_000, 1_000, true],
    ["before half its remaining life", 1_000, 1_000 + 29_999, true],
    ["at half its remaining life", 1_000, 1_000 + 30_000, false],
    ["expired", 1_000, 1_000 + 70_000, false],
  ])("%s", (_name, at, now, usable) => {
    expect(lateTokenUsable(token(1_000 + 60_000), at, now)).toBe(usable);
  });
});
