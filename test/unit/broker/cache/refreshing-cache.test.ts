import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RefreshingCache, type Fetched } from "../../../../broker/cache/refreshing-cache.ts";
import { DEFAULT_POLICY, retryDelay } from "../../../../broker/cache/policy.ts";
import { BrokerError } from "../../../../broker/errors.ts";

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse("2030-01-01T00:00:00Z");

/** An upstream whose behaviour the test switches; counts calls. */
function upstream(lifetimeMs = HOUR) {
  let n = 0;
  let mode: "ok" | "retryable" | "irrecoverable" = "ok";
  let delayMs = 0;
  const fetch = vi.fn(async (key: string): Promise<Fetched<string>> => {
    n += 1;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    if (mode === "retryable") throw new BrokerError("AWS_RETRYABLE", "sts unavailable");
    if (mode === "irrecoverable") throw new BrokerError("AWS_REJECTED", "access denied");
    return { value: `${key}#${n}`, expiresAt: Date.now() + lifetimeMs };
  });
  return {
    fetch,
    set(m: typeof mode) {
      mode = m;
    },
    delay(ms: number) {
      delayMs = ms;
    },
  };
}

function cache(up: ReturnType<typeof upstream>, random = () => 0.5) {
  return new RefreshingCache<string>({
    fetch: up.fetch,
    policy: DEFAULT_POLICY,
    random,
    isIrrecoverable: (e) => e instanceof BrokerError && e.code === "AWS_REJECTED",
    expiringError: (key, cause) =>
      new BrokerError("CREDENTIALS_EXPIRING", `credentials for ${key} expire soon and cannot be refreshed`, { cause }),
  });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as BrokerError).code;
  }
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("RefreshingCache", () => {
  it("shares one upstream call among 1,000 concurrent misses", async () => {
    const up = upstream();
    up.delay(50);
    const c = cache(up);
    const all = Promise.all(Array.from({ length: 1000 }, () => c.get("s3")));
    await vi.advanceTimersByTimeAsync(50);
    const values = await all;
    expect(up.fetch).toHaveBeenCalledTimes(1);
    expect(new Set(values.map((v) => v.value))).toEqual(new Set(["s3#1"]));
  });

  it("serves hits without calling the upstream and keys by target", async () => {
    const up = upstream();
    const c = cache(up);
    await c.get("s3");
    await c.get("s3");
    await c.get("blob");
    expect(up.fetch.mock.calls.map(([k]) => k)).toEqual(["s3", "blob"]);
  });

  it.each([
    ["no jitter", 0, 40 * MIN],
    ["half jitter", 0.5, 39 * MIN],
    ["full jitter", 1, 38 * MIN],
  ])("refreshes a warm key in the background at its refresh time (%s)", async (_what, random, refreshAfter) => {
    const up = upstream();
    const c = cache(up, () => random);
    c.warm(["s3"]);
    await vi.advanceTimersByTimeAsync(0);
    expect(up.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(refreshAfter - 1);
    expect(up.fetch).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(up.fetch).toHaveBeenCalledTimes(2);
    expect(c.peek("s3")?.value).toBe("s3#2");
    c.stop();
  });

  it("refreshes a key that is not warm on the first request inside its refresh window, still answering from the cache", async () => {
    const up = upstream();
    const c = cache(up, () => 0);
    await c.get("s3");
    vi.setSystemTime(T0 + 40 * MIN);
    expect((await c.get("s3")).value).toBe("s3#1");
    await vi.advanceTimersByTimeAsync(0);
    expect(up.fetch).toHaveBeenCalledTimes(2);
    expect((await c.get("s3")).value).toBe("s3#2");
  });

  it("keeps serving while refreshes fail, stops before expiry with a retryable error, and recovers by itself", async () => {
    const up = upstream();
    const c = cache(up, () => 0);
    c.warm(["s3"]);
    await vi.advanceTimersByTimeAsync(0);
    up.set("retryable");
    await vi.advanceTimersByTimeAsync(40 * MIN); // refresh due: fails, backs off, retries…
    expect(up.fetch.mock.calls.length).toBeGreaterThan(1);
    expect((await c.get("s3")).value).toBe("s3#1");
    expect(c.status("s3")).toMatchObject({ ready: true, expiresAt: T0 + HOUR });

    await vi.advanceTimersByTimeAsync(15 * MIN - 1); // 55 min − 1 ms: still served
    expect((await c.get("s3")).value).toBe("s3#1");
    await vi.advanceTimersByTimeAsync(1); // 55 min: 5 min left, no longer served
    expect(await codeOf(c.get("s3"))).toBe("CREDENTIALS_EXPIRING");
    expect(c.status("s3").ready).toBe(false);

    // Bounded by the backoff (random 0: 0.5 s, 1 s, 2 s … capped at 30 s): one attempt at 40 min,
    // then one after each delay that still fits in the 15 min until 55 min.
    let attempts = 1;
    for (
      let elapsed = retryDelay(1, DEFAULT_POLICY, () => 0);
      elapsed <= 15 * MIN;
      elapsed += retryDelay(attempts, DEFAULT_POLICY, () => 0)
    )
      attempts += 1;
    expect(up.fetch).toHaveBeenCalledTimes(1 + attempts);
    expect(attempts).toBeLessThan(70); // 15 min / a 15-s floor, plus the first short steps

    up.set("ok");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(c.status("s3").ready).toBe(true);
    expect((await c.get("s3")).value).toMatch(/^s3#\d+$/);
    c.stop();
  });

  it("evicts on an irrecoverable upstream error and passes that error on", async () => {
    const up = upstream();
    const c = cache(up, () => 0);
    c.warm(["s3"]);
    await vi.advanceTimersByTimeAsync(0);
    up.set("irrecoverable");
    await vi.advanceTimersByTimeAsync(40 * MIN);
    expect(c.peek("s3")).toBeUndefined();
    expect(await codeOf(c.get("s3"))).toBe("AWS_REJECTED");
    c.stop();
  });

  it("passes a cold miss's upstream error on, then fails fast during the backoff instead of calling again", async () => {
    const up = upstream();
    up.set("retryable");
    const c = cache(up, () => 0);
    expect(await codeOf(c.get("s3"))).toBe("AWS_RETRYABLE");
    expect(await codeOf(c.get("s3"))).toBe("AWS_RETRYABLE");
    expect(up.fetch).toHaveBeenCalledTimes(1);
    vi.setSystemTime(T0 + 500); // first backoff: 500–1000 ms (random 0 → 500)
    up.set("ok");
    expect((await c.get("s3")).value).toBe("s3#2");
  });

  it("makes 19 upstream calls in 12 h of 1-h credentials under steady traffic: one per refresh cycle, none per request", async () => {
    const up = upstream(HOUR);
    const c = cache(up, () => 0.5); // refresh at 21 min left → a cycle every 39 min
    c.warm(["s3"]);
    for (let t = 0; t < 12 * HOUR; t += 10_000) {
      await vi.advanceTimersByTimeAsync(10_000);
      const got = await c.get("s3");
      expect(got.expiresAt - Date.now()).toBeGreaterThan(15 * MIN);
    }
    // 1 + ⌊720 / 39⌋ = 19. (≤ 13 would need refreshing < 5 min before expiry, inside every SDK's window.)
    expect(up.fetch).toHaveBeenCalledTimes(19);
    c.stop();
  });

  it("stops scheduling refreshes after stop()", async () => {
    const up = upstream();
    const c = cache(up);
    c.warm(["s3"]);
    await vi.advanceTimersByTimeAsync(0);
    c.stop();
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(up.fetch).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("drops a value on invalidate so the next get fetches", async () => {
    const up = upstream();
    const c = cache(up);
    await c.get("s3");
    c.invalidate("s3");
    expect((await c.get("s3")).value).toBe("s3#2");
  });
});
