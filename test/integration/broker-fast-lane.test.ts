/**
 * The serving fast lane (broker/serve/fast-lane.ts) answers exactly as the Hono app does: the same
 * status, body and headers for success, for each refusal and for each credential-source error.
 * Two listeners over one `startServing`: one with the fast lane, one without.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BrokerError } from "../../broker/errors.ts";
import { MetricsRegistry } from "../../broker/metrics.ts";
import { listen, type Listener } from "../../broker/serve/listen.ts";
import { startServing, type Serving } from "../../broker/serve/start.ts";
import { createTokenExchange } from "../../broker/agents/app.ts";
import { DEFAULT_LIMITS } from "../../broker/agents/protocol.ts";
import { FakeSource, VAULT_CLIENT } from "../support/fakes/credential-source.ts";
import { exchangeForm, fakeDeps, makeKeys, type Keys } from "../support/fixtures/agents.ts";
import { allOn } from "../support/fixtures/serve-options.ts";

const dir = mkdtempSync(join(tmpdir(), "kcb-fast-lane-"));
const source = new FakeSource();
const metrics = new MetricsRegistry();
let serving: Serving;
let fast: Listener;
let plain: Listener;
let secret: string;

beforeAll(async () => {
  const options = {
    ...allOn(dir),
    aws: { ...allOn(dir).aws, webIdentity: undefined },
    azure: { ...allOn(dir).azure, federatedTokenFile: undefined },
  };
  serving = await startServing({ source, options, metrics });
  expect(serving.fastLane).toBeDefined();
  fast = await listen(serving.app, { host: "127.0.0.1", port: 0 }, serving.fastLane);
  plain = await listen(serving.app, { host: "127.0.0.1", port: 0 });
  secret = readFileSync(options.aws.container!.authTokenFile, "utf8");
});

afterAll(async () => {
  await fast?.close();
  await plain?.close();
  await serving?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function both(path: string, headers: Record<string, string>) {
  const get = async (l: Listener) => {
    const res = await fetch(`http://127.0.0.1:${l.port}${path}`, { headers });
    return {
      status: res.status,
      body: await res.text(),
      type: res.headers.get("content-type"),
      cache: res.headers.get("cache-control"),
      retryAfter: res.headers.get("retry-after"),
    };
  };
  return { fast: await get(fast), plain: await get(plain) };
}

describe("the AWS container-credentials fast lane", () => {
  it.each([
    ["success", "/v1/aws/credentials/s3-reader", true],
    ["a percent-encoded target", "/v1/aws/credentials/s3%2Dreader", true],
    ["no secret", "/v1/aws/credentials/s3-reader", false],
    ["an unknown target", "/v1/aws/credentials/nope", true],
    ["a query string", "/v1/aws/credentials/s3-reader?x=1", true],
  ])("answers %s exactly as the app does", async (_name, path, withSecret) => {
    const { fast: f, plain: p } = await both(path, withSecret ? { authorization: secret } : {});
    expect(f).toEqual(p);
  });

  it("serves the credentials with a 200 and counts the request in the same metric", async () => {
    const { fast: f } = await both("/v1/aws/credentials/sqs-writer", { authorization: secret });
    expect(f.status).toBe(200);
    expect(JSON.parse(f.body)).toMatchObject({
      AccessKeyId: expect.stringMatching(/^ASIA/) as string,
      Token: "session-sqs-writer",
      Expiration: "2030-01-01T12:00:00Z",
    });
    expect(await metrics.render()).toMatch(/cloud_broker_http_requests_total\{protocol="aws-container",status="200"\} \d+/);
  });

  it("answers from the cache's synchronous hit path without a promise when the source offers one", async () => {
    const held = await source.aws("s3-reader");
    const fake = source as FakeSource & { awsIfCached?: (t: string) => typeof held | undefined };
    fake.awsIfCached = (t) => (t === "s3-reader" ? held : undefined);
    try {
      const calls = source.awsCalls.length;
      const { fast: f, plain: p } = await both("/v1/aws/credentials/s3-reader", { authorization: secret });
      expect(f).toEqual(p);
      // The app path called aws() once; the fast lane did not.
      expect(source.awsCalls.length).toBe(calls + 1);
    } finally {
      delete fake.awsIfCached;
    }
  });

  it.each([
    ["retryable", new BrokerError("CREDENTIALS_EXPIRING", "internal detail: refresh failed 12 times")],
    ["irrecoverable", new BrokerError("AWS_REJECTED", "internal detail: AccessDenied for role x")],
    ["unexpected", new Error("boom with internal detail")],
  ])("maps a %s source error with the app's own error mapping", async (_name, error) => {
    source.failWith = error;
    try {
      const { fast: f, plain: p } = await both("/v1/aws/credentials/s3-reader", { authorization: secret });
      expect(f).toEqual(p);
      expect(f.status).toBeGreaterThanOrEqual(500);
      expect(f.body).not.toContain("internal detail");
    } finally {
      source.failWith = undefined;
    }
  });
});

describe("the Azure App Service fast lane", () => {
  const path = "/v1/azure/msi/token";
  const storage = encodeURIComponent("https://storage.azure.com");
  let header: string;
  const fake = source as FakeSource & { azureIfCached?: (t: string, s?: string) => ReturnType<FakeSource["azureNow"]> };

  beforeAll(() => {
    header = readFileSync(join(dir, "azure-identity-header"), "utf8");
    fake.azureIfCached = (t, s) => (source.failWith ? undefined : source.azureNow(t, s));
  });
  afterAll(() => {
    delete fake.azureIfCached;
  });

  it.each([
    ["success", `?api-version=2019-08-01&resource=${storage}`, true],
    ["a resource with a trailing slash", `?api-version=2019-08-01&resource=${storage}%2F`, true],
    [
      "an identity named by client_id",
      `?api-version=2019-08-01&resource=${encodeURIComponent("https://vault.azure.net")}&client_id=${VAULT_CLIENT}`,
      true,
    ],
    ["a repeated parameter (the first counts)", `?resource=${storage}&api-version=2019-08-01&resource=nope`, true],
    ["an encoded parameter name and '+' in a value", `?api%2Dversion=2019-08-01&resource=https://storage.azure.com&x=a+b`, true],
    ["a malformed escape", `?api-version=2019-08-01&resource=${storage}%E0%A4%A`, true],
    ["no secret", `?api-version=2019-08-01&resource=${storage}`, false],
    ["a wrong api-version", `?api-version=2017-09-01&resource=${storage}`, true],
    ["no resource", "?api-version=2019-08-01", true],
    ["an unsupported identity parameter", `?api-version=2019-08-01&resource=${storage}&object_id=x`, true],
    ["an unknown client_id", `?api-version=2019-08-01&resource=${storage}&client_id=nope`, true],
    ["a resource not configured", `?api-version=2019-08-01&resource=${encodeURIComponent("https://graph.microsoft.com")}`, true],
  ])("answers %s exactly as the app does", async (_name, query, withSecret) => {
    const { fast: f, plain: p } = await both(`${path}${query}`, withSecret ? { "x-identity-header": header } : {});
    expect(f).toEqual(p);
  });

  it("answers from the cache's synchronous hit path: the app's source call is not made", async () => {
    const calls = source.azureCalls.length;
    const { fast: f, plain: p } = await both(`${path}?api-version=2019-08-01&resource=${storage}`, { "x-identity-header": header });
    expect(f).toEqual(p);
    expect(f.status).toBe(200);
    expect(JSON.parse(f.body)).toMatchObject({
      access_token: expect.stringContaining("azure-token:storage") as string,
      resource: "https://storage.azure.com",
      token_type: "Bearer",
    });
    expect(source.azureCalls.length).toBe(calls + 1); // the app's
    expect(await metrics.render()).toMatch(/cloud_broker_http_requests_total\{protocol="azure-app-service",status="200"\} \d+/);
  });

  it("leaves a source failure to the app's error mapping", async () => {
    source.failWith = new BrokerError("AZURE_RETRYABLE", "internal detail: Entra 503");
    try {
      const { fast: f, plain: p } = await both(`${path}?api-version=2019-08-01&resource=${storage}`, { "x-identity-header": header });
      expect(f).toEqual(p);
      expect(f.status).toBe(503);
      expect(f.body).not.toContain("internal detail");
    } finally {
      source.failWith = undefined;
    }
  });
});

describe("the operations fast lane", () => {
  it.each(["/healthz", "/readyz"])("answers %s exactly as the app does, ready or not", async (path) => {
    const ready = await both(path, {});
    expect(ready.fast).toEqual(ready.plain);
    expect(ready.fast.status).toBe(200);
    source.ready = false;
    try {
      const notReady = await both(path, {});
      expect(notReady.fast).toEqual(notReady.plain);
      if (path === "/readyz") expect(notReady.fast.status).toBe(503);
    } finally {
      source.ready = true;
    }
  });

  it("serves /metrics in the Prometheus text format, counting the probes under protocol ops", async () => {
    const { fast: f, plain: p } = await both("/metrics", {});
    expect([f.status, f.type]).toEqual([p.status, p.type]);
    expect(f.type).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(f.body).toMatch(/cloud_broker_http_requests_total\{protocol="ops",status="200"\} \d+/);
  });

  it("leaves other methods on the operations paths to the app", async () => {
    for (const l of [fast, plain]) expect((await fetch(`http://127.0.0.1:${l.port}/readyz`, { method: "POST" })).status).toBe(404);
  });
});

describe("the token-exchange lane (POST /v1/token over node:http)", () => {
  let withLane: Listener;
  let appOnly: Listener;
  let keys: Keys;

  beforeAll(async () => {
    keys = await makeKeys();
    const exchange = createTokenExchange(fakeDeps(keys).deps);
    withLane = await listen(exchange.app, { host: "127.0.0.1", port: 0 }, exchange.lane);
    appOnly = await listen(exchange.app, { host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await withLane?.close();
    await appOnly?.close();
  });

  const FORM = { "content-type": "application/x-www-form-urlencoded" };
  it.each<[string, () => { method?: string; headers?: Record<string, string>; body?: string | Uint8Array }, number]>([
    ["an allowed exchange", () => ({ headers: FORM, body: exchangeForm(keys) }), 200],
    ["a JSON body", () => ({ headers: { "content-type": "application/json" }, body: JSON.stringify({ pad: "x".repeat(4000) }) }), 415],
    ["a body over the limit", () => ({ headers: FORM, body: `${exchangeForm(keys)}&pad=${"x".repeat(DEFAULT_LIMITS.maxBodyBytes)}` }), 413],
    ["a body that is not UTF-8", () => ({ headers: FORM, body: new Uint8Array([0x67, 0x3d, 0xff, 0xfe]) }), 400],
    ["a GET", () => ({ method: "GET" }), 405],
    ["a PUT with a body", () => ({ method: "PUT", headers: FORM, body: exchangeForm(keys) }), 405],
  ])("answers %s exactly as the app does", async (_name, make, status) => {
    const get = async (l: Listener) => {
      const { method = "POST", headers, body } = make();
      const res = await fetch(`http://127.0.0.1:${l.port}/v1/token`, {
        method,
        ...(headers && { headers }),
        ...(body !== undefined && { body }),
      });
      return {
        status: res.status,
        body: await res.text(),
        type: res.headers.get("content-type"),
        cache: res.headers.get("cache-control"),
        allow: res.headers.get("allow"),
      };
    };
    const lane = await get(withLane);
    const app = await get(appOnly);
    expect(lane).toEqual(app);
    expect(lane.status).toBe(status);
  });
});
