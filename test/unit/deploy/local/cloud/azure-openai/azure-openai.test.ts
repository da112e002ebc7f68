import OpenAI, { AzureOpenAI } from "openai";
import { describe, expect, it } from "vitest";
import { loadCloudAccounts } from "../../../../../../deploy/local/cloud/accounts/accounts.ts";
import { createActivityLog } from "../../../../../../deploy/local/cloud/azure-openai/activity.ts";
import { createAzureOpenAiApp, type AzureOpenAiFaultKind } from "../../../../../../deploy/local/cloud/azure-openai/app.ts";
import type { FaultSlot } from "../../../../../../deploy/local/cloud/common/fault.ts";
import { createTokenSigner } from "../../../../../../deploy/local/cloud/entra/access-token.ts";

const accounts = loadCloudAccounts(new URL("../../../../../../deploy/local/cloud/accounts/example.yaml", import.meta.url).pathname);
const TENANT = "8f3a1c52-6b0e-4d7a-9c21-5e4b7a9d0f13";
const PAYMENTS = "2c6e9b14-0a7f-4f3e-8d51-9b2a6c4e7d08";
const REPORTING = "5d1f7a30-9e4c-4b62-a7d8-0c3e5f1b2a96";
const AUTHORITY = "https://login.local.test";
const ENDPOINT = "https://kcb-openai.openai.azure.com";
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const COGNITIVE = "https://cognitiveservices.azure.com";

async function harness() {
  const signer = await createTokenSigner();
  const activity = createActivityLog();
  const clock = { now: NOW };
  const fault: FaultSlot<AzureOpenAiFaultKind> = { kind: undefined, remaining: undefined };
  const app = createAzureOpenAiApp({
    accounts,
    verifyAccessToken: (token, audience, atMs) =>
      signer.verify(token, { issuerFor: (t) => `${AUTHORITY}/${t}/v2.0`, audience, nowSeconds: Math.floor(atMs / 1000) }),
    clock: () => clock.now,
    activity,
    fault,
  });
  const token = (clientId: string, resource = COGNITIVE) =>
    signer.issue({
      issuer: `${AUTHORITY}/${TENANT}/v2.0`,
      tenant: TENANT,
      clientId,
      resource,
      nowSeconds: Math.floor(NOW / 1000),
      lifetimeSec: 3599,
    });
  // The unmodified SDK builds the request; its fetch hands it to the app in memory (no socket).
  const fetch = (input: string | URL | Request, init?: RequestInit) =>
    Promise.resolve(app.request(input instanceof Request ? input : String(input), init));
  const azure = (t: string) =>
    new AzureOpenAI({ endpoint: ENDPOINT, apiVersion: "2024-10-21", azureADTokenProvider: () => Promise.resolve(t), fetch, maxRetries: 0 });
  return { app, activity, clock, fault, token, fetch, azure };
}

const ask = { messages: [{ role: "user" as const, content: "hello there model" }] };

async function refusal(promise: Promise<unknown>): Promise<{ status: number; error: unknown }> {
  const e = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OpenAI.APIError);
  const apiError = e as InstanceType<typeof OpenAI.APIError>;
  return { status: apiError.status ?? 0, error: apiError.error };
}

describe("Azure OpenAI emulator with the unmodified openai SDK (AzureOpenAI)", () => {
  it("answers a chat completion on a deployment the identity has a role on, and logs who called", async () => {
    const h = await harness();
    const out = await h.azure(await h.token(PAYMENTS)).chat.completions.create({ model: "gpt-4o", ...ask });
    expect(out.object).toBe("chat.completion");
    expect(out.model).toBe("gpt-4o-2024-08-06");
    expect(out.choices[0]?.message.content).toBe(
      "[local Azure OpenAI emulator, no model ran] deployment gpt-4o (gpt-4o 2024-08-06) received 1 message(s); the last one had 3 word(s).",
    );
    expect(out.usage?.prompt_tokens).toBe(3);
    expect(h.activity.records[0]).toMatchObject({
      resultType: "Succeeded",
      resultSignature: "200",
      identity: { claims: { appid: PAYMENTS, tid: TENANT } },
      properties: { modelDeploymentName: "gpt-4o", apiVersion: "2024-10-21", requestPath: "/openai/deployments/gpt-4o/chat/completions" },
    });
  });

  it("refuses a deployment outside the identity's role assignment scope with 401 PermissionDenied", async () => {
    const h = await harness();
    const client = h.azure(await h.token(REPORTING));
    await client.chat.completions.create({ model: "gpt-4o-mini", ...ask });
    const { status, error } = await refusal(client.chat.completions.create({ model: "gpt-4o", ...ask }));
    expect(status).toBe(401);
    expect(error).toMatchObject({
      code: "PermissionDenied",
      message: expect.stringContaining(
        "lacks the required data action `Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action`",
      ) as string,
    });
    expect(h.activity.records.map((r) => [r.properties.modelDeploymentName, r.resultSignature, r.properties.errorCode])).toEqual([
      ["gpt-4o-mini", "200", undefined],
      ["gpt-4o", "401", "PermissionDenied"],
    ]);
  });

  it.each([
    ["a token for another audience", async (h: Awaited<ReturnType<typeof harness>>) => h.token(PAYMENTS, "https://storage.azure.com")],
    [
      "a tampered token",
      async (h: Awaited<ReturnType<typeof harness>>) => {
        const t = await h.token(PAYMENTS);
        return `${t.slice(0, -6)}AAAAAA`;
      },
    ],
    [
      "an expired token",
      async (h: Awaited<ReturnType<typeof harness>>) => {
        const t = await h.token(PAYMENTS);
        h.clock.now = NOW + 3600_000;
        return t;
      },
    ],
    [
      "a token of another issuer's key",
      async () =>
        (await createTokenSigner()).issue({
          issuer: `${AUTHORITY}/${TENANT}/v2.0`,
          tenant: TENANT,
          clientId: PAYMENTS,
          resource: COGNITIVE,
          nowSeconds: Math.floor(NOW / 1000),
          lifetimeSec: 3599,
        }),
    ],
  ])("refuses %s with 401 in the service's shape", async (_what, make) => {
    const h = await harness();
    const { status, error } = await refusal(h.azure(await make(h)).chat.completions.create({ model: "gpt-4o", ...ask }));
    expect(status).toBe(401);
    expect(error).toEqual({
      statusCode: 401,
      message:
        "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
    });
  });

  it("answers an unknown deployment with 404 DeploymentNotFound", async () => {
    const h = await harness();
    const { status, error } = await refusal(h.azure(await h.token(PAYMENTS)).chat.completions.create({ model: "gpt-5", ...ask }));
    expect(status).toBe(404);
    expect(error).toMatchObject({ code: "DeploymentNotFound" });
  });

  it.each([
    ["no api-version", "/openai/deployments/gpt-4o/chat/completions"],
    ["a malformed api-version", "/openai/deployments/gpt-4o/chat/completions?api-version=latest"],
    ["an unknown path", "/openai/deployments/gpt-4o/chat?api-version=2024-10-21"],
  ])("answers %s with 404 Resource not found", async (_what, path) => {
    const h = await harness();
    const res = await h.app.request(`${ENDPOINT}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${await h.token(PAYMENTS)}`, "content-type": "application/json" },
      body: JSON.stringify(ask),
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: { code: "404", message: "Resource not found" } });
  });

  it("refuses a malformed body with OpenAI's invalid_request_error shape", async () => {
    const h = await harness();
    const { status, error } = await refusal(h.azure(await h.token(PAYMENTS)).chat.completions.create({ model: "gpt-4o", messages: [] }));
    expect(status).toBe(400);
    expect(error).toMatchObject({ type: "invalid_request_error", param: "messages" });
  });

  it("serves the v1 API (deployment in the body's model) to the plain OpenAI client with an Entra token", async () => {
    const h = await harness();
    const client = new OpenAI({ baseURL: `${ENDPOINT}/openai/v1`, apiKey: await h.token(REPORTING), fetch: h.fetch, maxRetries: 0 });
    const out = await client.chat.completions.create({ model: "gpt-4o-mini", ...ask });
    expect(out.choices[0]?.message.content).toContain("deployment gpt-4o-mini");
    expect((await refusal(client.chat.completions.create({ model: "gpt-4o", ...ask }))).status).toBe(401);
  });

  it("answers a throttling fault with 429 and retry-after", async () => {
    const h = await harness();
    h.fault.kind = "throttling";
    h.fault.remaining = 1;
    const res = await h.app.request(`${ENDPOINT}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21`, {
      method: "POST",
      headers: { authorization: `Bearer ${await h.token(PAYMENTS)}` },
      body: JSON.stringify(ask),
    });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("1");
  });
});
