import { afterEach, describe, expect, it, vi } from "vitest";
import { RealmSyncError } from "../../../../admin-scripts/errors.ts";
import { settleAll } from "../../../../admin-scripts/keycloak/pool.ts";
import { openSession } from "../../../../admin-scripts/keycloak/session.ts";

const target = { name: "eu", adminUrl: "https://kc-eu.example/", credentials: { username: "admin", password: "pw" } };

function tokenEndpoint(expiresIn: number) {
  const calls: URLSearchParams[] = [];
  let n = 0;
  const fetchImpl = vi.fn(async (_url: string | URL | Request, init?: RequestInit) => {
    calls.push(new URLSearchParams(init?.body as URLSearchParams));
    await Promise.resolve();
    return new Response(JSON.stringify({ access_token: `token-${++n}`, expires_in: expiresIn }), { status: 200 });
  });
  return { fetchImpl: fetchImpl as unknown as typeof fetch, calls };
}

afterEach(() => vi.useRealTimers());

describe("admin session", () => {
  it("signs in to the master realm with the password grant on admin-cli, trimming a trailing slash", async () => {
    const { fetchImpl, calls } = tokenEndpoint(60);
    const session = await openSession(target, { fetch: fetchImpl });
    expect(session.url).toBe("https://kc-eu.example");
    expect(vi.mocked(fetchImpl).mock.calls[0]![0]).toBe("https://kc-eu.example/realms/master/protocol/openid-connect/token");
    expect(Object.fromEntries(calls[0]!)).toEqual({ grant_type: "password", client_id: "admin-cli", username: "admin", password: "pw" });
    expect(await session.admin.getAccessToken()).toBe("token-1");
  });

  it("renews the token before it expires (an apply outlives admin-cli's 60 s tokens), one request for concurrent callers", async () => {
    vi.useFakeTimers();
    const { fetchImpl } = tokenEndpoint(60);
    const session = await openSession({ ...target, credentials: { clientId: "realm-sync", clientSecret: "s" } }, { fetch: fetchImpl });
    vi.advanceTimersByTime(30_000);
    expect(await session.admin.getAccessToken()).toBe("token-1");
    vi.advanceTimersByTime(20_000); // 10 s left: renew
    expect(await Promise.all([session.admin.getAccessToken(), session.admin.getAccessToken()])).toEqual(["token-2", "token-2"]);
    expect(fetchImpl).toHaveBeenCalledTimes(2);
  });

  it.each([
    [
      "a refused sign-in",
      () =>
        Promise.resolve(
          new Response(JSON.stringify({ error: "invalid_grant", error_description: "Invalid user credentials" }), { status: 401 }),
        ),
      "CLUSTER_AUTH_FAILED",
      /cluster eu: signing in to the master realm failed: Invalid user credentials/,
    ],
    [
      "an unreachable cluster",
      () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })),
      "CLUSTER_UNREACHABLE",
      /cluster eu: signing in: unreachable \(ECONNREFUSED\)/,
    ],
  ])("names the cluster on %s", async (_label, impl, code, message) => {
    const error = await openSession(target, { fetch: vi.fn(impl) as unknown as typeof fetch }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RealmSyncError);
    expect((error as RealmSyncError).code).toBe(code);
    expect((error as RealmSyncError).message).toMatch(message);
    expect((error as RealmSyncError).message).not.toContain("pw");
  });
});

describe("bounded parallelism", () => {
  it("settles every item with at most `limit` in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await settleAll([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight--;
      if (n === 4) throw new Error("four");
      return n * 2;
    });
    expect(peak).toBe(3);
    expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).toEqual([2, 4, 6, "four", 10, 12, 14]);
  });
});
