/**
 * The Entra adapter against a local node:https fake answering in Entra's wire format (a
 * scripted fake: it checks nothing, it lets the adapter parse real responses and errors).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEntraExchanger } from "../../broker/exchange/azure-entra.ts";
import { entraError, startFakeEntra, type FakeEntra } from "../support/fakes/entra.ts";
import { failure } from "../support/failure.ts";

let entra: FakeEntra;
beforeAll(async () => {
  entra = await startFakeEntra();
});
afterAll(async () => {
  await entra.close();
});

const TENANT = "11111111-2222-3333-4444-555555555555";
const CLIENT = "66666666-7777-8888-9999-000000000000";
const ASSERTION = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSJ9.c2ln";
const request = { tenantId: TENANT, clientId: CLIENT, scope: "https://storage.azure.com/.default", assertion: ASSERTION };

function exchanger(delays: number[] = [], timeoutMs = 2_000) {
  return createEntraExchanger({
    authorityHost: entra.authorityHost,
    timeoutMs,
    maxAttempts: 3,
    agent: entra.agent,
    random: () => 1,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
}

const tokenCalls = () => entra.calls.filter((c) => c.method === "POST");

describe("createEntraExchanger against an Entra wire fake", () => {
  it("sends a client-credentials request with the Keycloak token as client assertion straight to the tenant's token endpoint (no discovery)", async () => {
    entra.reply({
      status: 200,
      json: { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: "entra-access-token-1" },
    });
    const before = Date.now();
    const token = await exchanger().getToken(request);
    expect(token.accessToken).toBe("entra-access-token-1");
    expect(token.expiresOn.getTime()).toBeGreaterThanOrEqual(before + 3_598_000);
    expect(token.expiresOn.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
    expect(entra.calls.map((c) => `${c.method} ${c.path}`).slice(-1)).toEqual([`POST /${TENANT}/oauth2/v2.0/token`]);
    const form = tokenCalls().at(-1)!.form;
    expect(form.get("grant_type")).toBe("client_credentials");
    expect(form.get("client_id")).toBe(CLIENT);
    expect(form.get("scope")).toBe("https://storage.azure.com/.default");
    expect(form.get("client_assertion_type")).toBe("urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    expect(form.get("client_assertion")).toBe(ASSERTION);
  });

  it("asks Entra again on every exchange (no token cache inside the adapter answers an early refresh)", async () => {
    entra.reply({ status: 200, json: { token_type: "Bearer", expires_in: 3599, access_token: "entra-access-token-2" } });
    const x = exchanger();
    const before = tokenCalls().length;
    await x.getToken(request);
    await x.getToken(request);
    expect(tokenCalls().length - before).toBe(2);
  });

  it.each([
    // Entra error, HTTP status, AADSTS, broker code, attempts
    ["invalid_client", 400, 70021, "AZURE_REJECTED", 1],
    ["invalid_client", 400, 700211, "AZURE_REJECTED", 1],
    ["invalid_client", 400, 700212, "AZURE_REJECTED", 1],
    ["invalid_client", 400, 700213, "AZURE_REJECTED", 1],
    ["invalid_client", 400, 700024, "AZURE_REJECTED", 1],
    ["invalid_client", 401, 7000272, "AZURE_REJECTED", 1],
    ["invalid_client", 401, 700027, "AZURE_REJECTED", 1],
    ["invalid_scope", 400, 500011, "AZURE_REJECTED", 1],
    ["temporarily_unavailable", 400, 90033, "AZURE_RETRYABLE", 3],
    // Entra could not reach the issuer's discovery/JWKS (Keycloak down or overloaded): not a decision about the client.
    ["invalid_request", 400, 50166, "AZURE_RETRYABLE", 3],
    ["invalid_request", 400, 90061, "AZURE_RETRYABLE", 3],
    ["temporarily_unavailable", 503, undefined, "AZURE_RETRYABLE", 3],
    ["server_error", 500, undefined, "AZURE_RETRYABLE", 3],
    ["slow_down", 429, undefined, "AZURE_RETRYABLE", 3],
  ] as const)("%s (HTTP %i, AADSTS%s) → %s after %i attempt(s)", async (error, status, aadsts, brokerCode, attempts) => {
    entra.reply(entraError(status, error, aadsts));
    const before = tokenCalls().length;
    const delays: number[] = [];
    const e = await failure(exchanger(delays).getToken(request));
    expect(e.code).toBe(brokerCode);
    expect(e.message).toContain(aadsts === undefined ? error : `AADSTS${aadsts}`);
    expect(e.message).not.toContain(ASSERTION);
    expect(tokenCalls().length - before).toBe(attempts);
    expect(delays).toHaveLength(attempts - 1);
  });

  it("treats an HTML 500 page as retryable", async () => {
    entra.reply({ status: 500, text: "<html>oops</html>" });
    expect((await failure(exchanger().getToken(request))).code).toBe("AZURE_RETRYABLE");
  });

  it("gives up on a hanging token endpoint after the timeout, as retryable", async () => {
    entra.reply("hang");
    const started = Date.now();
    const e = await failure(exchanger([], 300).getToken(request));
    expect(e.code).toBe("AZURE_RETRYABLE");
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  it("treats an unreachable authority as retryable", async () => {
    const x = createEntraExchanger({ authorityHost: "https://127.0.0.1:1", timeoutMs: 500, maxAttempts: 1, agent: entra.agent });
    const e = await failure(x.getToken(request));
    expect(e.code).toBe("AZURE_RETRYABLE");
    expect(e.message).toContain("network_error");
  });
});
