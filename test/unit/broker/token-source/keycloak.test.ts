/**
 * The Keycloak token source with injected HTTP (no network): discovery, the client-credentials
 * request it sends, and how Keycloak's answers map to broker error codes.
 */
import { describe, expect, it, vi } from "vitest";
import { BrokerError } from "../../../../broker/errors.ts";
import { clientSecretFileAuth, type ClientAuth } from "../../../../broker/token-source/client-auth.ts";
import { createKeycloakTokenSource, type KeycloakHttp } from "../../../../broker/token-source/keycloak.ts";
import { signToken } from "../../../support/fixtures/tokens.ts";

const ISSUER = "https://kc.example.com/realms/prod";
const TOKEN_ENDPOINT = `${ISSUER}/protocol/openid-connect/token`;
const discoveryDoc = { issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT, jwks_uri: `${ISSUER}/protocol/openid-connect/certs` };

type Reply = { status: number; json?: unknown; text?: string } | Error;

function fakeKeycloak(replies: { discovery?: Reply[]; token?: Reply[] }) {
  const calls: Array<{ url: string; body: URLSearchParams; headers: Record<string, string> }> = [];
  const next = (list: Reply[] | undefined, fallback: Reply): Reply => (list && list.length > 1 ? list.shift()! : (list?.[0] ?? fallback));
  const answer = async (reply: Reply) => {
    await Promise.resolve();
    if (reply instanceof Error) throw reply;
    return { status: reply.status, body: reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? "") };
  };
  const http: KeycloakHttp = {
    get(url) {
      calls.push({ url, body: new URLSearchParams(), headers: {} });
      return answer(next(replies.discovery, { status: 200, json: discoveryDoc }));
    },
    postForm(url, form, options) {
      calls.push({ url, body: new URLSearchParams(form), headers: { ...options.headers } });
      return answer(next(replies.token, { status: 500, text: "no reply scripted" }));
    },
  };
  return { http, calls };
}

const staticSecret: ClientAuth = ({ clientId, body }) => {
  body.set("client_id", clientId);
  body.set("client_secret", "s3cr3t");
  return Promise.resolve();
};

async function accessToken(aud: string) {
  const now = Math.floor(Date.now() / 1000);
  return signToken({ iss: ISSUER, aud, sub: "workload:payments", azp: "payments-api", iat: now, exp: now + 300 });
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return e instanceof BrokerError ? e.code : `not a BrokerError: ${String(e)}`;
  }
  return undefined;
}

describe("createKeycloakTokenSource", () => {
  it.each([
    ["aws", "kcb-aws", "sts.amazonaws.com"],
    ["azure", "kcb-azure", "api://AzureADTokenExchange"],
  ] as const)("gets the %s token with scope=%s from the discovered token endpoint", async (audience, scope, aud) => {
    const token = await accessToken(aud);
    const kc = fakeKeycloak({ token: [{ status: 200, json: { access_token: token, token_type: "Bearer", expires_in: 300 } }] });
    const source = createKeycloakTokenSource({
      issuer: ISSUER,
      clientId: "payments-api",
      auth: staticSecret,
      timeoutMs: 5_000,
      http: kc.http,
    });
    const got = await source.fetch(audience);
    expect(got.token).toBe(token);
    expect(kc.calls.map((c) => c.url)).toEqual([`${ISSUER}/.well-known/openid-configuration`, TOKEN_ENDPOINT]);
    expect(Object.fromEntries(kc.calls[1]!.body)).toEqual({
      grant_type: "client_credentials",
      scope,
      client_id: "payments-api",
      client_secret: "s3cr3t",
    });
  });

  it("discovers once, and again after a failed discovery", async () => {
    const token = await accessToken("sts.amazonaws.com");
    const kc = fakeKeycloak({
      discovery: [Object.assign(new Error("getaddrinfo ENOTFOUND"), { code: "ENOTFOUND" }), { status: 200, json: discoveryDoc }],
      token: [{ status: 200, json: { access_token: token, token_type: "Bearer" } }],
    });
    const source = createKeycloakTokenSource({
      issuer: ISSUER,
      clientId: "payments-api",
      auth: staticSecret,
      timeoutMs: 5_000,
      http: kc.http,
    });
    expect(await codeOf(source.fetch("aws"))).toBe("KEYCLOAK_UNAVAILABLE");
    await source.fetch("aws");
    await source.fetch("aws");
    expect(kc.calls.filter((c) => c.url.endsWith("openid-configuration"))).toHaveLength(2);
  });

  it.each<[string, { discovery?: Reply[]; token?: Reply[] }, string]>([
    [
      "invalid_client (wrong secret, disabled client)",
      { token: [{ status: 401, json: { error: "invalid_client", error_description: "Invalid client or Invalid client credentials" } }] },
      "KEYCLOAK_REJECTED",
    ],
    ["unauthorized_client", { token: [{ status: 400, json: { error: "unauthorized_client" } }] }, "KEYCLOAK_REJECTED"],
    ["invalid_scope (client scope not assigned)", { token: [{ status: 400, json: { error: "invalid_scope" } }] }, "KEYCLOAK_REJECTED"],
    ["a 503 from the front", { token: [{ status: 503, text: "<html>down</html>" }] }, "KEYCLOAK_UNAVAILABLE"],
    ["an OAuth server_error", { token: [{ status: 500, json: { error: "server_error" } }] }, "KEYCLOAK_UNAVAILABLE"],
    [
      "a refused connection",
      { token: [Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })] },
      "KEYCLOAK_UNAVAILABLE",
    ],
    [
      "a 429 with temporarily_unavailable",
      { token: [{ status: 429, json: { error: "temporarily_unavailable" } }] },
      "KEYCLOAK_UNAVAILABLE",
    ],
    ["a token response that is not JSON", { token: [{ status: 200, text: "<html>proxy</html>" }] }, "KEYCLOAK_UNAVAILABLE"],
    [
      "a discovery document without an https token endpoint",
      { discovery: [{ status: 200, json: { ...discoveryDoc, token_endpoint: "http://kc.example.com/token" } }] },
      "KEYCLOAK_REJECTED",
    ],
    [
      "a discovery document for another issuer",
      { discovery: [{ status: 200, json: { ...discoveryDoc, issuer: "https://other.example/realms/prod" } }] },
      "KEYCLOAK_REJECTED",
    ],
    ["a 404 discovery (wrong realm)", { discovery: [{ status: 404, json: { error: "Realm does not exist" } }] }, "KEYCLOAK_REJECTED"],
    [
      "a token for the wrong audience",
      { token: [{ status: 200, json: { access_token: "PLACEHOLDER", token_type: "Bearer" } }] },
      "KEYCLOAK_INVALID_TOKEN",
    ],
  ])("maps %s to its code", async (_what, replies, expected) => {
    for (const r of replies.token ?? []) {
      if (!(r instanceof Error) && (r.json as { access_token?: string } | undefined)?.access_token === "PLACEHOLDER") {
        (r.json as { access_token: string }).access_token = await accessToken("account");
      }
    }
    const kc = fakeKeycloak(replies);
    const source = createKeycloakTokenSource({
      issuer: ISSUER,
      clientId: "payments-api",
      auth: staticSecret,
      timeoutMs: 5_000,
      http: kc.http,
    });
    expect(await codeOf(source.fetch("aws"))).toBe(expected);
  });

  it("passes on the client authentication's own error (an unreadable secret file)", async () => {
    const kc = fakeKeycloak({});
    const source = createKeycloakTokenSource({
      issuer: ISSUER,
      clientId: "payments-api",
      auth: clientSecretFileAuth("/nonexistent/secret", "client_secret_post"),
      timeoutMs: 5_000,
      http: kc.http,
    });
    expect(await codeOf(source.fetch("aws"))).toBe("CLIENT_ASSERTION_UNREADABLE");
  });

  it("keeps a token request that outlasts the timeout open: the next fetch gets its answer, Keycloak is asked once", async () => {
    const token = await accessToken("sts.amazonaws.com");
    const posts: Array<{ timeoutMs: number; answer: (a: { status: number; body: string }) => void }> = [];
    const http: KeycloakHttp = {
      get: () => Promise.resolve({ status: 200, body: JSON.stringify(discoveryDoc) }),
      postForm: (_url, _form, options) => new Promise((resolve) => posts.push({ timeoutMs: options.timeoutMs, answer: resolve })),
    };
    vi.useFakeTimers();
    try {
      const source = createKeycloakTokenSource({ issuer: ISSUER, clientId: "payments-api", auth: staticSecret, timeoutMs: 5_000, http });
      const first = codeOf(source.fetch("aws"));
      await vi.advanceTimersByTimeAsync(5_000);
      expect(await first).toBe("KEYCLOAK_UNAVAILABLE");
      expect(posts.map((p) => p.timeoutMs)).toEqual([60_000]); // the request itself may live up to the answer limit
      const second = source.fetch("aws");
      await vi.advanceTimersByTimeAsync(2_000);
      posts[0]!.answer({ status: 200, body: JSON.stringify({ access_token: token, token_type: "Bearer", expires_in: 300 }) });
      expect((await second).token).toBe(token);
      expect(posts).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
