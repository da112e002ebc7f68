import { describe, expect, it } from "vitest";
import { createApp } from "../../../broker/app.ts";
import { BROKER_ERROR_CODES, BrokerError, ERRORS } from "../../../broker/errors.ts";
import { generateSecret } from "../../../broker/serve/secret.ts";
import { FakeSource, STORAGE_CLIENT, VAULT_CLIENT } from "../../support/fakes/credential-source.ts";
import { allOn } from "../../support/fixtures/serve-options.ts";

const awsSecret = generateSecret();
const azureSecret = generateSecret();
const NOW = Date.parse("2030-01-01T11:00:00.000Z");

function setup() {
  const source = new FakeSource();
  const app = createApp({
    source,
    options: allOn(),
    secrets: { awsContainerToken: awsSecret, appServiceHeader: azureSecret },
    clock: { now: () => NOW },
  });
  return { source, app };
}

const imdsHeaders = { metadata: "true", host: "127.0.0.1:8999" };

describe("AWS container credentials", () => {
  it("serves the container-credentials document for a target", async () => {
    const { app } = setup();
    const res = await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(await res.json()).toEqual({
      AccessKeyId: "ASIAS3READERXXXXXXXX",
      SecretAccessKey: "secret-s3-reader",
      Token: "session-s3-reader",
      Expiration: "2030-01-01T12:00:00Z",
      AccountId: "123456789012",
    });
  });

  it("serializes once per credential version and again after a refresh", async () => {
    const { app, source } = setup();
    const first = await (await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } })).text();
    const again = await (await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } })).text();
    expect(again).toBe(first);
    source.refresh(new Date("2030-01-01T13:00:00.000Z"));
    const refreshed = (await (await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } })).json()) as {
      Expiration: string;
    };
    expect(refreshed.Expiration).toBe("2030-01-01T13:00:00Z");
  });

  it.each([
    ["missing", undefined],
    ["wrong", generateSecret()],
    ["right length, last character changed", awsSecret.slice(0, -1) + (awsSecret.endsWith("A") ? "B" : "A")],
    ["with a Bearer scheme", `Bearer ${awsSecret}`],
    ["one character longer", `${awsSecret}x`],
    ["a prefix", awsSecret.slice(0, 20)],
    ["the App Service secret", azureSecret],
  ])("refuses an Authorization header that is %s, without detail and before looking at the target", async (_case, header) => {
    const { app, source } = setup();
    for (const target of ["s3-reader", "no-such-target"]) {
      const res = await app.request(`/v1/aws/credentials/${target}`, { headers: header === undefined ? {} : { authorization: header } });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ Code: "UNAUTHORIZED", Message: "unauthorized" });
    }
    expect(source.awsCalls).toEqual([]);
  });

  it("answers 404 for an unknown target", async () => {
    const { app, source } = setup();
    const res = await app.request("/v1/aws/credentials/no-such-target", { headers: { authorization: awsSecret } });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ Code: "UNKNOWN_TARGET", Message: "no such AWS target" });
    expect(source.awsCalls).toEqual([]);
  });
});

describe("Azure App Service managed identity", () => {
  const url = (query: string) => `/v1/azure/msi/token?${query}`;

  it("serves a token for the default identity, echoing the resource as asked", async () => {
    const { app, source } = setup();
    const res = await app.request(url("api-version=2019-08-01&resource=https%3A%2F%2Fstorage.azure.com"), {
      headers: { "x-identity-header": azureSecret },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      access_token: "azure-token:storage https://storage.azure.com/.default",
      expires_on: String(Date.parse("2030-01-01T12:00:00Z") / 1000),
      resource: "https://storage.azure.com",
      token_type: "Bearer",
      client_id: STORAGE_CLIENT,
    });
    expect(source.azureCalls).toEqual([["storage", "https://storage.azure.com/.default"]]);
  });

  it("picks the identity named by client_id and matches resources regardless of trailing slashes", async () => {
    const { app, source } = setup();
    const vault = await app.request(
      url(`api-version=2019-08-01&resource=https://vault.azure.net/&client_id=${VAULT_CLIENT.toUpperCase()}`),
      { headers: { "x-identity-header": azureSecret } },
    );
    expect(vault.status).toBe(200);
    expect((await vault.json()) as { resource: string; client_id: string }).toMatchObject({
      resource: "https://vault.azure.net/",
      client_id: VAULT_CLIENT,
    });
    const arm = await app.request(url("api-version=2019-08-01&resource=https://management.azure.com/"), {
      headers: { "x-identity-header": azureSecret },
    });
    expect(arm.status).toBe(200);
    expect(source.azureCalls).toEqual([
      ["vault", "https://vault.azure.net/.default"],
      ["storage", "https://management.azure.com//.default"],
    ]);
  });

  it.each([
    ["missing", undefined],
    ["wrong", generateSecret()],
    ["right length, wrong", azureSecret.slice(0, -1) + (azureSecret.endsWith("A") ? "B" : "A")],
    ["the AWS secret", awsSecret],
  ])("refuses an X-IDENTITY-HEADER that is %s", async (_case, header) => {
    const { app, source } = setup();
    const res = await app.request(url("api-version=2019-08-01&resource=https://storage.azure.com"), {
      headers: header === undefined ? {} : { "x-identity-header": header },
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ statusCode: 401, message: "unauthorized", error: "unauthorized" });
    expect(source.azureCalls).toEqual([]);
  });

  it.each([
    ["a resource outside the identity's scopes", "api-version=2019-08-01&resource=https://vault.azure.net", "UNKNOWN_TARGET"],
    [
      "an unknown client_id",
      `api-version=2019-08-01&resource=https://storage.azure.com&client_id=${"c".repeat(8)}-0000-0000-0000-000000000000`,
      "UNKNOWN_TARGET",
    ],
    ["no resource", "api-version=2019-08-01", "BAD_REQUEST"],
    ["another api-version", "api-version=2017-09-01&resource=https://storage.azure.com", "BAD_REQUEST"],
    ["an identity named by object id", "api-version=2019-08-01&resource=https://storage.azure.com&object_id=x", "BAD_REQUEST"],
  ])("answers 400 (never a retried 404) for %s", async (_case, query, code) => {
    const { app, source } = setup();
    const res = await app.request(url(query), { headers: { "x-identity-header": azureSecret } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ statusCode: 400, error: code.toLowerCase() });
    expect(source.azureCalls).toEqual([]);
  });
});

describe("Azure IMDS-compatible endpoint", () => {
  it.each(["/metadata/identity/oauth2/token", "/metadata/identity/oauth2/token/"])(
    "serves IMDS's string-typed document on %s",
    async (path) => {
      const { app } = setup();
      const res = await app.request(`${path}?api-version=2018-02-01&resource=https://storage.azure.com/`, { headers: imdsHeaders });
      expect(res.status).toBe(200);
      const expiresOn = Date.parse("2030-01-01T12:00:00Z") / 1000;
      expect(await res.json()).toEqual({
        access_token: "azure-token:storage https://storage.azure.com/.default",
        client_id: STORAGE_CLIENT,
        expires_in: "3600",
        expires_on: String(expiresOn),
        ext_expires_in: "3600",
        not_before: String(NOW / 1000),
        resource: "https://storage.azure.com/",
        token_type: "Bearer",
      });
    },
  );

  it.each([
    ["no Metadata header", { host: "127.0.0.1:8999" }],
    ["Metadata: false", { ...imdsHeaders, metadata: "false" }],
    ["X-Forwarded-For (a relayed request)", { ...imdsHeaders, "x-forwarded-for": "10.0.0.7" }],
    ["a foreign Host (DNS rebinding)", { ...imdsHeaders, host: "attacker.example:8999" }],
  ])("answers 400 like IMDS for %s", async (_case, headers) => {
    const { app, source } = setup();
    const res = await app.request("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com", { headers });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: "bad_request" });
    expect(source.azureCalls).toEqual([]);
  });

  it("answers the SDK's probe (no query, no Metadata header) quickly with a 400", async () => {
    const { app } = setup();
    const res = await app.request("/metadata/identity/oauth2/token", { headers: { host: "127.0.0.1:8999" } });
    expect(res.status).toBe(400);
  });

  it("answers 400 for an unknown identity or resource", async () => {
    const { app } = setup();
    const unknownResource = await app.request(
      "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://graph.microsoft.com",
      { headers: imdsHeaders },
    );
    expect(unknownResource.status).toBe(400);
    expect(await unknownResource.json()).toEqual({
      error: "unknown_target",
      error_description: "this identity may not get tokens for this resource",
    });
  });

  it("accepts [::1] and localhost hosts", async () => {
    const { app } = setup();
    for (const host of ["[::1]:8999", "localhost:8999", "127.0.0.1"]) {
      const res = await app.request("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com", {
        headers: { ...imdsHeaders, host },
      });
      expect(res.status, host).toBe(200);
    }
  });
});

describe("errors from the credential source", () => {
  const retryable = BROKER_ERROR_CODES.filter((code) => ERRORS[code].retryable);
  const final = BROKER_ERROR_CODES.filter((code) => !ERRORS[code].retryable);

  it.each(retryable)("%s: mapped status, Retry-After, a generic message", async (code) => {
    const { app, source } = setup();
    source.failWith = new BrokerError(code, "internal detail: https://kc.internal/realms/x said no to eyJhbGciOi.secret");
    const res = await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } });
    expect(res.status).toBe(ERRORS[code].status);
    expect(res.headers.get("retry-after")).toBe("2");
    const text = await res.text();
    expect(JSON.parse(text)).toEqual({ Code: code, Message: "credentials are temporarily unavailable, retry later" });
    expect(text).not.toContain("internal");
  });

  it.each(final)("%s: mapped status, no Retry-After, nothing internal", async (code) => {
    const { app, source } = setup();
    source.failWith = new BrokerError(code, "internal detail");
    const res = await app.request(`/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com`, {
      headers: imdsHeaders,
    });
    expect(res.status).toBe(code === "UNKNOWN_TARGET" ? 400 : ERRORS[code].status);
    expect(res.headers.get("retry-after")).toBeNull();
    expect(await res.text()).not.toContain("internal");
  });

  it("turns an unexpected error into a bare 500", async () => {
    const { app, source } = setup();
    source.failWith = new Error("TypeError deep inside: at foo (/app/broker/x.ts:1:1)");
    const res = await app.request("/v1/azure/msi/token?api-version=2019-08-01&resource=https://storage.azure.com", {
      headers: { "x-identity-header": azureSecret },
    });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ statusCode: 500, message: "internal error", error: "internal" });
  });
});

describe("protocol switches", () => {
  it("serves only the enabled protocols", async () => {
    const source = new FakeSource();
    const options = allOn();
    delete options.azure.imds;
    delete options.azure.appService;
    const app = createApp({ source, options, secrets: { awsContainerToken: awsSecret } });
    expect(
      (
        await app.request("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com", {
          headers: imdsHeaders,
        })
      ).status,
    ).toBe(404);
    expect(
      (await app.request("/v1/azure/msi/token?api-version=2019-08-01&resource=x", { headers: { "x-identity-header": azureSecret } }))
        .status,
    ).toBe(404);
  });

  it("refuses to build without the secret of an enabled protocol", () => {
    expect(() => createApp({ source: new FakeSource(), options: allOn(), secrets: { awsContainerToken: awsSecret } })).toThrow(TypeError);
  });
});

describe("the agents' endpoint", () => {
  it("is never served by the credential app (it has its own HTTPS listener)", async () => {
    const app = createApp({
      source: new FakeSource(),
      options: allOn(),
      secrets: { awsContainerToken: awsSecret, appServiceHeader: azureSecret },
    });
    const res = await app.request("/v1/token", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "grant_type=urn:ietf:params:oauth:grant-type:token-exchange",
    });
    expect(res.status).toBe(404);
    expect((await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsSecret } })).status).toBe(200);
  });
});

describe("every credential route: loopback Host only, no proxy headers (the fast lane: broker-fast-lane integration test)", () => {
  const routes: Array<[string, string, Record<string, string>]> = [
    ["AWS container", "/v1/aws/credentials/s3-reader", { authorization: awsSecret }],
    ["App Service", "/v1/azure/msi/token?api-version=2019-08-01&resource=https://storage.azure.com", { "x-identity-header": azureSecret }],
    ["IMDS", "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com", { metadata: "true" }],
  ];
  const refused: Array<[string, Record<string, string>]> = [
    ["Forwarded", { forwarded: "for=10.0.0.7" }],
    ["Via", { via: "1.1 proxy.internal" }],
    ["X-Forwarded-For", { "x-forwarded-for": "10.0.0.7" }],
    ["X-Forwarded-Host", { "x-forwarded-host": "127.0.0.1" }],
    ["X-Forwarded-Proto", { "x-forwarded-proto": "http" }],
    ["X-Real-IP", { "x-real-ip": "10.0.0.7" }],
    ["a foreign Host (DNS rebinding)", { host: "attacker.example:8999" }],
    ["a pod-address Host", { host: "10.1.2.3:8999" }],
  ];
  const cases = routes.flatMap(([route, path, auth]) =>
    refused.map(([what, extra]) => [route, what, path, { host: "127.0.0.1:8999", ...auth, ...extra }] as const),
  );

  it.each(cases)("%s refuses %s with 400 before fetching anything", async (_route, _what, path, headers) => {
    const { app, source } = setup();
    const res = await app.request(path, { headers });
    expect(res.status).toBe(400);
    expect([source.awsCalls, source.azureCalls]).toEqual([[], []]);
  });

  it.each(routes)("%s serves a loopback Host (127.0.0.1, localhost, [::1])", async (_route, path, auth) => {
    for (const host of ["127.0.0.1:8999", "localhost:8999", "[::1]:8999"]) {
      const { app } = setup();
      expect((await app.request(path, { headers: { host, ...auth } })).status).toBe(200);
    }
  });

  it("serves MSAL4J's double-slash IMDS path (Java asks for //metadata/identity/oauth2/token)", async () => {
    const { app } = setup();
    const res = await app.request(
      "http://127.0.0.1:8999//metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com",
      { headers: { metadata: "true", host: "127.0.0.1:8999" } },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { token_type: string }).token_type).toBe("Bearer");
  });
});
