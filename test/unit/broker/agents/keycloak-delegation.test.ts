import type { webcrypto } from "node:crypto";
import { decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import type { AgentsError } from "../../../../broker/errors.ts";
import { keycloakDelegatedTokens, privateKeyJwtAuth } from "../../../../broker/agents/keycloak-delegation.ts";
import { ISSUER, fixedClock } from "../../../support/fixtures/agents.ts";

type Fetch = (url: string, init: { body?: unknown; method?: string; headers?: unknown }) => Promise<Response>;

let key: webcrypto.CryptoKey;
beforeAll(async () => {
  key = (await generateKeyPair("RS256")).privateKey;
});

const TOKEN_ENDPOINT = `${ISSUER}/protocol/openid-connect/token`;

/** Keycloak as seen through an injected fetch: discovery and the token endpoint. */
function fakeKeycloak(answer: (form: URLSearchParams, n: number) => Response | Promise<Response>) {
  const tokenRequests: URLSearchParams[] = [];
  let discoveries = 0;
  const fetch: Fetch = async (url, init) => {
    if (url === `${ISSUER}/.well-known/openid-configuration`) {
      discoveries++;
      return Response.json({ issuer: ISSUER, token_endpoint: TOKEN_ENDPOINT, jwks_uri: `${ISSUER}/protocol/openid-connect/certs` });
    }
    if (url === TOKEN_ENDPOINT) {
      const form = new URLSearchParams(String(init.body));
      tokenRequests.push(form);
      return answer(form, tokenRequests.length);
    }
    return new Response("not found", { status: 404 });
  };
  return { fetch, tokenRequests, discoveries: () => discoveries };
}

const ok = (n: number) => Response.json({ access_token: `delegated-${n}`, token_type: "Bearer", expires_in: 300 });

describe("keycloakDelegatedTokens", () => {
  it("asks Keycloak as kcb-delegation.<agent>.<workload> with private_key_jwt and the cloud's scope", async () => {
    const kc = fakeKeycloak((_f, n) => ok(n));
    const source = keycloakDelegatedTokens({
      issuer: ISSUER,
      clientAuth: privateKeyJwtAuth(key, "d1"),
      clock: fixedClock(),
      fetch: kc.fetch,
    });
    expect(await source.token({ agent: "copilot", workload: "billing", cloud: "aws" })).toBe("delegated-1");
    expect(await source.token({ agent: "copilot", workload: "billing", cloud: "azure" })).toBe("delegated-2");
    const [aws, azure] = kc.tokenRequests;
    expect(aws?.get("grant_type")).toBe("client_credentials");
    expect(aws?.get("scope")).toBe("kcb-aws");
    expect(azure?.get("scope")).toBe("kcb-azure");
    expect(aws?.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    const assertion = aws?.get("client_assertion") ?? "";
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: "RS256", kid: "d1" });
    expect(decodeJwt(assertion)).toMatchObject({ iss: "kcb-delegation.copilot.billing", sub: "kcb-delegation.copilot.billing" });
    expect(kc.discoveries()).toBe(1);
  });

  it("caches per (client, cloud) until shortly before expiry; concurrent misses share one request", async () => {
    const kc = fakeKeycloak((_f, n) => ok(n));
    const clock = fixedClock();
    const source = keycloakDelegatedTokens({ issuer: ISSUER, clientAuth: privateKeyJwtAuth(key), clock, fetch: kc.fetch });
    const pair = { agent: "copilot", workload: "billing", cloud: "aws" } as const;
    expect(await Promise.all([source.token(pair), source.token(pair), source.token(pair)])).toEqual([
      "delegated-1",
      "delegated-1",
      "delegated-1",
    ]);
    clock.advance(239_000);
    expect(await source.token(pair)).toBe("delegated-1");
    clock.advance(1_000); // 300 s lifetime − 60 s margin
    expect(await source.token(pair)).toBe("delegated-2");
    expect(kc.tokenRequests).toHaveLength(2);
  });

  it.each([
    [
      "Keycloak refuses the client (it does not exist)",
      () => Response.json({ error: "invalid_client" }, { status: 401 }),
      "DELEGATION_MISCONFIGURED",
    ],
    ["Keycloak refuses the scope", () => Response.json({ error: "invalid_scope" }, { status: 400 }), "DELEGATION_MISCONFIGURED"],
    ["Keycloak fails", () => new Response("oops", { status: 503 }), "DELEGATION_UNAVAILABLE"],
    ["the network fails", () => Promise.reject(new TypeError("fetch failed")), "DELEGATION_UNAVAILABLE"],
  ])("%s → %s", async (_name, answer, code) => {
    const kc = fakeKeycloak(answer);
    const source = keycloakDelegatedTokens({ issuer: ISSUER, clientAuth: privateKeyJwtAuth(key), clock: fixedClock(), fetch: kc.fetch });
    const error = await source.token({ agent: "a", workload: "w", cloud: "aws" }).catch((e: unknown) => e as AgentsError);
    expect((error as AgentsError).code).toBe(code);
  });
});
