import { SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { createIssuerKeys } from "../../../../../../deploy/local/cloud/common/issuer-keys.ts";
import { createTokenSigner } from "../../../../../../deploy/local/cloud/entra/access-token.ts";
import {
  createEntraApp,
  JWT_BEARER,
  type EntraCall,
  type EntraFaultState,
  type IssuedAccessToken,
  type ResourceCall,
} from "../../../../../../deploy/local/cloud/entra/app.ts";
import {
  CLIENT_ID,
  fakeIssuer,
  ISSUER,
  makeKey,
  sign,
  signRaw,
  SUBJECT,
  TENANT,
  trustExport,
  type FakeIssuer,
  type SigningKey,
} from "../../../../../support/fixtures/cloud.ts";
import type { Hono } from "hono";
import type { JWTPayload } from "jose";

const BASE = "https://login.local.test";
const RESOURCE = "api://kcb-emulator-resource";

interface Harness {
  app: Hono;
  issuer: FakeIssuer;
  key: SigningKey;
  calls: EntraCall[];
  issued: IssuedAccessToken[];
  resourceCalls: ResourceCall[];
  fault: EntraFaultState;
  now: number;
}

let h: Harness;
let nowSec: number;

beforeEach(async () => {
  const key = await makeKey("k1");
  const issuer = fakeIssuer([key.publicJwk]);
  const state = { now: Date.UTC(2030, 0, 1, 12) };
  const calls: EntraCall[] = [];
  const issued: IssuedAccessToken[] = [];
  const resourceCalls: ResourceCall[] = [];
  const fault: EntraFaultState = { kind: undefined, remaining: undefined };
  const clock = () => state.now;
  const app = createEntraApp({
    fics: trustExport().azure.federatedCredentials,
    keys: createIssuerKeys({ fetch: issuer.fetch, clock, refreshCooldownMs: 0 }),
    signer: await createTokenSigner(),
    clock,
    resource: RESOURCE,
    tokenLifetimeSec: 3599,
    calls,
    issued,
    resourceCalls,
    requests: [],
    fault,
  });
  h = { app, issuer, key, calls, issued, resourceCalls, fault, now: state.now };
  nowSec = Math.floor(state.now / 1000);
});

function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: SUBJECT,
    aud: "api://AzureADTokenExchange",
    iat: nowSec - 5,
    nbf: nowSec - 5,
    exp: nowSec + 300,
    ...overrides,
  };
}

function form(assertion: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_id: CLIENT_ID,
    scope: `${RESOURCE}/.default`,
    client_assertion_type: JWT_BEARER,
    ...(assertion === undefined ? {} : { client_assertion: assertion }),
    ...extra,
  };
}

async function token(body: Record<string, string>, tenant = TENANT) {
  const res = await h.app.request(`${BASE}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", "client-request-id": "11111111-2222-4333-8444-555555555555" },
    body: new URLSearchParams(body).toString(),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

type Case = [
  name: string,
  build: () => Promise<Record<string, string>> | Record<string, string>,
  status: number,
  error: string,
  code: number,
  tenant?: string,
];

const cases: Case[] = [
  ["an issuer with a trailing slash", async () => form(await sign(h.key, claims({ iss: `${ISSUER}/` }))), 401, "invalid_client", 700211],
  [
    "an issuer differing in case",
    async () => form(await sign(h.key, claims({ iss: ISSUER.toUpperCase() }))),
    401,
    "invalid_client",
    700211,
  ],
  ["a wrong audience", async () => form(await sign(h.key, claims({ aud: "sts.amazonaws.com" }))), 401, "invalid_client", 700212],
  ["a wrong subject", async () => form(await sign(h.key, claims({ sub: "workload:nobody" }))), 401, "invalid_client", 700213],
  [
    "a subject differing in case",
    async () => form(await sign(h.key, claims({ sub: SUBJECT.toUpperCase() }))),
    401,
    "invalid_client",
    700213,
  ],
  [
    "a subject and an audience from two different FICs",
    async () => form(await sign(h.key, claims({ sub: "workload:other" }))),
    400,
    "invalid_request",
    70021,
  ],
  ["an expired assertion", async () => form(await sign(h.key, claims({ exp: nowSec - 1 }))), 401, "invalid_client", 700024],
  ["an assertion not yet valid", async () => form(await sign(h.key, claims({ nbf: nowSec + 120 }))), 401, "invalid_client", 700024],
  ["an assertion without exp", async () => form(await sign(h.key, { ...claims(), exp: undefined })), 401, "invalid_client", 700024],
  [
    "an assertion without kid",
    async () => form(await signRaw(h.key, { alg: "RS256", typ: "JWT" }, claims())),
    401,
    "invalid_client",
    7000272,
  ],
  ["an unknown kid", async () => form(await sign(await makeKey("k9"), claims())), 401, "invalid_client", 7000272],
  ["a foreign key with the published kid", async () => form(await sign(await makeKey("k1"), claims())), 401, "invalid_client", 700027],
  ["alg none", () => form(`${b64({ alg: "none", kid: "k1" })}.${b64(claims())}.`), 401, "invalid_client", 700027],
  [
    "HS256 keyed with the public key",
    async () =>
      form(await new SignJWT(claims()).setProtectedHeader({ alg: "HS256", kid: "k1" }).sign(Buffer.from(JSON.stringify(h.key.publicJwk)))),
    401,
    "invalid_client",
    700027,
  ],
  [
    "an unknown application",
    async () => form(await sign(h.key, claims()), { client_id: "00000000-0000-4000-8000-000000000000" }),
    400,
    "unauthorized_client",
    700016,
  ],
  [
    "an unknown tenant",
    async () => form(await sign(h.key, claims())),
    400,
    "invalid_request",
    90002,
    "99999999-0000-4000-8000-000000000000",
  ],
  ["no scope", async () => ({ ...form(await sign(h.key, claims())), scope: "" }), 400, "invalid_request", 900144],
  [
    "a scope without /.default",
    async () => form(await sign(h.key, claims()), { scope: `${RESOURCE}/read` }),
    400,
    "invalid_scope",
    1002012,
  ],
  [
    "two resources",
    async () => form(await sign(h.key, claims()), { scope: `${RESOURCE}/.default https://storage.azure.com/.default` }),
    400,
    "invalid_scope",
    70011,
  ],
  ["the password grant", async () => form(await sign(h.key, claims()), { grant_type: "password" }), 400, "unsupported_grant_type", 70003],
  ["no client_assertion", () => form(undefined), 401, "invalid_client", 7000218],
  [
    "a wrong client_assertion_type",
    async () => form(await sign(h.key, claims()), { client_assertion_type: "urn:example:other" }),
    401,
    "invalid_client",
    7000218,
  ],
  ["a malformed assertion", () => form("definitely.not-a.jwt!"), 400, "invalid_request", 50027],
];

describe("Entra emulator: client_credentials with a federated client_assertion", () => {
  const table = cases.map(([name, build, status, error, code, tenant]) => [name, code, status, error, build, tenant] as const);
  it.each(table)("%s → AADSTS%i (%i %s)", async (_name, code, status, error, build, tenant) => {
    const res = await token(await build(), tenant);
    expect({ status: res.status, error: res.json.error, codes: res.json.error_codes }).toEqual({ status, error, codes: [code] });
    expect(res.json.error_description).toMatch(
      new RegExp(
        `^AADSTS${code}: .+ Trace ID: [0-9a-f-]{36} Correlation ID: 11111111-2222-4333-8444-555555555555 Timestamp: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`,
      ),
    );
    expect(res.json).toMatchObject({
      timestamp: "2030-01-01 12:00:00Z",
      correlation_id: "11111111-2222-4333-8444-555555555555",
      error_uri: `${BASE}/error?code=${code}`,
    });
    expect(res.json.trace_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(h.issued).toHaveLength(0);
  });

  it("issues an access token for the resource that the protected test API accepts", async () => {
    const res = await token(form(await sign(h.key, claims())));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599 });
    expect(h.issued[0]).toMatchObject({
      tenant: TENANT,
      clientId: CLIENT_ID,
      resource: RESOURCE,
      ficName: "payments",
      subject: SUBJECT,
      issuer: ISSUER,
    });
    const who = await h.app.request(`${BASE}/resource/whoami`, { headers: { authorization: `Bearer ${res.json.access_token as string}` } });
    expect(who.status).toBe(200);
    expect(await who.json()).toMatchObject({ appid: CLIENT_ID, tid: TENANT, aud: RESOURCE });
  });

  it("keeps the protected API closed to tokens for another resource, foreign tokens and no token", async () => {
    const other = await token(form(await sign(h.key, claims()), { scope: "https://storage.azure.com/.default" }));
    expect(other.status).toBe(200);
    for (const auth of [`Bearer ${other.json.access_token as string}`, `Bearer ${await sign(h.key, claims({ aud: RESOURCE }))}`, ""]) {
      const res = await h.app.request(`${BASE}/resource/whoami`, { headers: auth ? { authorization: auth } : {} });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
  });

  it("serves the tenant discovery document MSAL needs, with the issuer equal to the authority", async () => {
    const res = await h.app.request(`${BASE}/${TENANT}/v2.0/.well-known/openid-configuration`);
    const doc = (await res.json()) as Record<string, string>;
    expect(doc).toMatchObject({
      issuer: `${BASE}/${TENANT}/v2.0`,
      token_endpoint: `${BASE}/${TENANT}/oauth2/v2.0/token`,
      jwks_uri: `${BASE}/${TENANT}/discovery/v2.0/keys`,
    });
    expect(doc.authorization_endpoint).toBeTruthy();
    const keys = (await (await h.app.request(doc.jwks_uri!)).json()) as { keys: unknown[] };
    expect(keys.keys).toHaveLength(1);
  });

  it("answers AADSTS50166 when the assertion's issuer cannot be reached", async () => {
    h.issuer.down = true;
    const res = await token(form(await sign(h.key, claims())));
    expect({ status: res.status, codes: res.json.error_codes }).toEqual({ status: 400, codes: [50166] });
  });

  it.each([
    ["throttling", 429, "temporarily_unavailable", 90055],
    ["server-error", 500, "server_error", 50000],
    ["unavailable", 503, "temporarily_unavailable", 90033],
  ] as const)("injects the %s fault", async (kind, status, error, code) => {
    h.fault.kind = kind;
    h.fault.remaining = 1;
    const assertion = await sign(h.key, claims());
    const res = await token(form(assertion));
    expect({ status: res.status, error: res.json.error, codes: res.json.error_codes }).toEqual({ status, error, codes: [code] });
    expect((await token(form(assertion))).status).toBe(200);
  });

  it("records calls without the assertion", async () => {
    const assertion = await sign(h.key, claims());
    await token(form(assertion));
    expect(JSON.stringify(h.calls)).not.toContain(assertion.slice(0, 40));
    expect(h.calls[0]).toMatchObject({ tenant: TENANT, clientId: CLIENT_ID, status: 200 });
  });
});
