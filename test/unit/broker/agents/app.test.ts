import { Hono } from "hono";
import { beforeAll, describe, expect, it } from "vitest";
import { AWS_SOURCE_IDENTITY_CLAIM } from "../../../../realm-config/model/conventions.ts";
import { BrokerError } from "../../../../broker/errors.ts";
import { createTokenExchangeApp, type TokenExchangeDeps } from "../../../../broker/agents/app.ts";
import { decodeAwsCredentialsToken } from "../../../../broker/agents/aws-credentials-token.ts";
import { tokenFingerprint } from "../../../../broker/agents/audit.ts";
import { ACCESS_TOKEN_TYPE, AWS_CREDENTIALS_TOKEN_TYPE, DEFAULT_LIMITS, TOKEN_EXCHANGE_GRANT } from "../../../../broker/agents/protocol.ts";
import { tokenBucketLimiter } from "../../../../broker/agents/rate-limit.ts";
import {
  AWS_SECRET,
  AWS_SESSION_TOKEN,
  AZ_CLIENT,
  AZURE_ACCESS_TOKEN,
  AUDIENCE,
  ISSUER,
  NOW,
  ROLE,
  ROLE_WRITER,
  SESSION_POLICY,
  STORAGE,
  TENANT,
  VAULT,
  actorToken,
  claims,
  exchangeForm,
  fakeDeps,
  makeKeys,
  signRaw,
  subjectToken,
  type Keys,
} from "../../../support/fixtures/agents.ts";

let keys: Keys;
beforeAll(async () => {
  keys = await makeKeys();
});

const FORM = { "content-type": "application/x-www-form-urlencoded" };

async function post(deps: TokenExchangeDeps, body: string, headers: Record<string, string> = FORM) {
  const response = await createTokenExchangeApp(deps).request("/v1/token", { method: "POST", headers, body });
  return { response, json: (await response.json()) as Record<string, unknown> };
}

describe("POST /v1/token — allowed", () => {
  it("an agent acting for a workload gets narrowed AWS credentials in the documented token type", async () => {
    const { deps, recorded } = fakeDeps(keys);
    const subject = subjectToken(keys);
    const actor = actorToken(keys);
    const { response, json } = await post(deps, exchangeForm(keys, { subject_token: subject, actor_token: actor }));

    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("pragma")).toBe("no-cache");
    expect(response.headers.get("x-request-id")).toBe("req-1");
    expect(json).toEqual({
      access_token: expect.any(String) as string,
      issued_token_type: AWS_CREDENTIALS_TOKEN_TYPE,
      token_type: "N_A",
      expires_in: 1800,
    });
    expect(decodeAwsCredentialsToken(json.access_token as string)).toEqual({
      Version: 1,
      AccessKeyId: "ASIAEXAMPLEKEYID0001",
      SecretAccessKey: AWS_SECRET,
      SessionToken: AWS_SESSION_TOKEN,
      Token: AWS_SESSION_TOKEN,
      Expiration: "2026-03-01T12:30:00Z",
      AccountId: "111122223333",
    });

    expect(recorded.delegation).toEqual([{ agent: "copilot", workload: "billing", cloud: "aws" }]);
    expect(recorded.assumeRole).toEqual([
      {
        roleArn: ROLE,
        webIdentityToken: expect.any(String) as string,
        sessionName: "copilot@billing",
        durationSeconds: 1800,
        policy: JSON.stringify(SESSION_POLICY),
      },
    ]);

    expect(recorded.audit).toHaveLength(1);
    expect(recorded.audit[0]).toEqual({
      type: "token_exchange",
      time: new Date(NOW).toISOString(),
      requestId: "req-1",
      outcome: "allowed",
      status: 200,
      subject: { iss: ISSUER, sub: "wl-billing", name: "billing", tokenSha256: tokenFingerprint(subject) },
      actor: { iss: ISSUER, sub: "sa-copilot-uuid", clientId: "agent-copilot", name: "copilot", tokenSha256: tokenFingerprint(actor) },
      target: ROLE,
      rule: "copilot",
      policyRevision: "rev-test",
      issued: {
        cloud: "aws",
        expiresAt: "2026-03-01T12:30:00.000Z",
        sessionName: "copilot@billing",
        sourceIdentity: "copilot@billing",
        durationSeconds: 1800,
        sessionPolicySha256: tokenFingerprint(JSON.stringify(SESSION_POLICY)),
        accessKeyId: "ASIAEXAMPLEKEYID0001",
        assumedRoleArn: "arn:aws:sts::111122223333:assumed-role/billing-reader/copilot@billing",
      },
    });
    const audited = JSON.stringify(recorded.audit);
    for (const secret of [subject, actor, AWS_SECRET, AWS_SESSION_TOKEN, recorded.assumeRole[0]?.webIdentityToken ?? "?"])
      expect(audited).not.toContain(secret);
  });

  it("an agent gets an Azure access token for an allowed scope of the workload's identity", async () => {
    const { deps, recorded } = fakeDeps(keys);
    const { response, json } = await post(
      deps,
      exchangeForm(keys, { resource: undefined, audience: "storage", scope: STORAGE, requested_token_type: ACCESS_TOKEN_TYPE }),
    );
    expect(response.status).toBe(200);
    expect(json).toEqual({
      access_token: AZURE_ACCESS_TOKEN,
      issued_token_type: ACCESS_TOKEN_TYPE,
      token_type: "Bearer",
      expires_in: 3599,
      scope: STORAGE,
    });
    expect(recorded.delegation).toEqual([{ agent: "copilot", workload: "billing", cloud: "azure" }]);
    expect(recorded.azureToken).toEqual([
      { tenantId: TENANT, clientId: AZ_CLIENT, scope: STORAGE, assertion: expect.any(String) as string },
    ]);
    expect(recorded.audit[0]).toMatchObject({
      outcome: "allowed",
      rule: "copilot",
      target: "azure:storage",
      scopes: [STORAGE],
      issued: { cloud: "azure", scope: STORAGE },
    });
    expect(JSON.stringify(recorded.audit)).not.toContain(AZURE_ACCESS_TOKEN);
  });
});

describe("POST /v1/token — refused, one audit event each, never the detail to the client", () => {
  type Case = [string, (k: Keys) => { body: string; headers?: Record<string, string> }, number, string, string];
  const cases: Case[] = [
    [
      "a JSON body",
      (_k) => ({ body: JSON.stringify({ grant_type: TOKEN_EXCHANGE_GRANT }), headers: { "content-type": "application/json" } }),
      415,
      "invalid_request",
      "REQUEST_NOT_FORM",
    ],
    [
      "a body over the limit",
      (k) => ({ body: `${exchangeForm(k)}&pad=${"x".repeat(DEFAULT_LIMITS.maxBodyBytes)}` }),
      413,
      "invalid_request",
      "REQUEST_TOO_LARGE",
    ],
    [
      "a repeated parameter",
      (k) => ({ body: `${exchangeForm(k)}&resource=${encodeURIComponent(ROLE)}` }),
      400,
      "invalid_request",
      "REQUEST_MALFORMED",
    ],
    [
      "another grant type",
      (k) => ({ body: exchangeForm(k, { grant_type: "client_credentials" }) }),
      400,
      "unsupported_grant_type",
      "GRANT_TYPE_UNSUPPORTED",
    ],
    [
      "no actor",
      (k) => ({ body: exchangeForm(k, { actor_token: undefined, actor_token_type: undefined }) }),
      400,
      "invalid_request",
      "ACTOR_REQUIRED",
    ],
    [
      "a target that names nothing",
      (k) => ({ body: exchangeForm(k, { resource: "s3://bucket" }) }),
      400,
      "invalid_target",
      "TARGET_INVALID",
    ],
    [
      "an expired subject token",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { iat: NOW / 1000 - 900, exp: NOW / 1000 - 300 }) }) }),
      400,
      "invalid_request",
      "SUBJECT_TOKEN_INVALID",
    ],
    [
      "a subject token from a foreign issuer",
      (k) => ({
        body: exchangeForm(k, {
          subject_token: signRaw(
            { alg: "RS256", kid: "k1" },
            claims({ iss: "https://evil.example/realms/td", sub: "wl-billing" }),
            k.foreign,
          ),
        }),
      }),
      400,
      "invalid_request",
      "SUBJECT_TOKEN_INVALID",
    ],
    [
      "an actor token with a jku header",
      (k) => ({
        body: exchangeForm(k, {
          actor_token: signRaw(
            { alg: "RS256", kid: "k1", jku: "https://evil.example/jwks" },
            claims({ sub: "a", azp: "agent-copilot" }),
            k.rsa,
          ),
        }),
      }),
      400,
      "invalid_request",
      "ACTOR_TOKEN_INVALID",
    ],
    [
      "an actor token without jti",
      (k) => ({ body: exchangeForm(k, { actor_token: actorToken(k, { jti: undefined }) }) }),
      400,
      "invalid_request",
      "ACTOR_TOKEN_INVALID",
    ],
    [
      "a subject that is no workload",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { sub: "someone-else" }) }) }),
      400,
      "invalid_request",
      "SUBJECT_UNKNOWN",
    ],
    [
      "an actor no rule names",
      (k) => ({ body: exchangeForm(k, { actor_token: actorToken(k, { azp: "agent-rogue" }) }) }),
      400,
      "unauthorized_client",
      "AGENT_UNKNOWN",
    ],
    [
      "an agent acting for a workload it may not (wrong actor)",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { sub: "wl-reports", azp: "reports" }) }) }),
      400,
      "invalid_request",
      "ACTOR_NOT_PERMITTED",
    ],
    [
      "a subject whose may_act forbids the actor",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { may_act: { client_id: "agent-other" } }) }) }),
      400,
      "invalid_request",
      "SUBJECT_FORBIDS_ACTOR",
    ],
    [
      "a role the rule does not allow",
      (k) => ({ body: exchangeForm(k, { resource: ROLE_WRITER }) }),
      400,
      "invalid_target",
      "TARGET_NOT_ALLOWED",
    ],
    [
      "an Azure scope wider than the rule's (widening)",
      (k) => ({ body: exchangeForm(k, { resource: "storage", scope: VAULT }) }),
      400,
      "invalid_scope",
      "SCOPE_NOT_ALLOWED",
    ],
  ];

  it.each(cases)("%s → %i %s", async (_name, make, status, error, reason) => {
    const { deps, recorded } = fakeDeps(keys);
    const { body, headers } = make(keys);
    const { response, json } = await post(deps, body, headers ?? FORM);
    expect(response.status).toBe(status);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(json.error).toBe(error);
    expect(Object.keys(json).sort()).toEqual(["error", "error_description"]);
    expect(recorded.audit).toHaveLength(1);
    expect(recorded.audit[0]).toMatchObject({ outcome: "denied", status, reason, error });
    expect(recorded.assumeRole).toEqual([]);
    expect(recorded.azureToken).toEqual([]);
    // The client learns the rule, not which check failed.
    const detail = recorded.audit[0]?.detail ?? "";
    expect(detail).not.toBe("");
    expect(json.error_description).not.toContain(detail);
    expect(JSON.stringify(json)).not.toMatch(/EXPIRED|ISSUER|HEADER|jku|jti|may_act/);
  });

  // What a subject token must be beyond a valid signature, and how actor and subject must differ:
  // a token that also works at AWS, one another client minted, an ID token, one from the future or
  // too old, or an actor that is the subject is refused before any policy or cloud is asked.
  it.each<[string, (k: Keys) => { body: string }, string, string]>([
    [
      "a subject token whose aud also names AWS",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { aud: [AUDIENCE, "sts.amazonaws.com"] }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "aud is not exactly kcb-agents",
    ],
    [
      "a subject token for AWS only",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { aud: "sts.amazonaws.com" }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "AUDIENCE_MISMATCH",
    ],
    [
      "a subject token another client minted with the workload's sub",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { azp: "reports" }) }) }),
      "SUBJECT_CLIENT_MISMATCH",
      "SUBJECT_CLIENT_MISMATCH",
    ],
    [
      "a subject token without azp",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { azp: undefined }) }) }),
      "SUBJECT_CLIENT_MISMATCH",
      "SUBJECT_CLIENT_MISMATCH",
    ],
    [
      "a subject ID token (payload typ ID)",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { typ: "ID" }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "NOT_ACCESS_TOKEN",
    ],
    [
      "a subject token without payload typ",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { typ: undefined }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "NOT_ACCESS_TOKEN",
    ],
    [
      "a subject token issued a year ahead",
      (k) => ({
        body: exchangeForm(k, { subject_token: subjectToken(k, { iat: NOW / 1000 + 365 * 86400, exp: NOW / 1000 + 365 * 86400 + 300 }) }),
      }),
      "SUBJECT_TOKEN_INVALID",
      "ISSUED_IN_FUTURE",
    ],
    [
      "a subject token issued a minute ahead (beyond the 30 s skew)",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { iat: NOW / 1000 + 60 }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "ISSUED_IN_FUTURE",
    ],
    [
      "a subject token older than the maximum age, not yet expired",
      (k) => ({ body: exchangeForm(k, { subject_token: subjectToken(k, { iat: NOW / 1000 - 3600, exp: NOW / 1000 + 3600 }) }) }),
      "SUBJECT_TOKEN_INVALID",
      "TOO_OLD",
    ],
    [
      "an actor token with the subject's sub",
      (k) => ({ body: exchangeForm(k, { actor_token: actorToken(k, { sub: "wl-billing" }) }) }),
      "ACTOR_TOKEN_INVALID",
      "same sub as the subject token",
    ],
    [
      "an actor token with the subject token's jti",
      (k) => ({
        body: exchangeForm(k, { subject_token: subjectToken(k, { jti: "shared" }), actor_token: actorToken(k, { jti: "shared" }) }),
      }),
      "ACTOR_TOKEN_INVALID",
      "same jti as the subject token",
    ],
    [
      "an actor ID token (payload typ ID)",
      (k) => ({ body: exchangeForm(k, { actor_token: actorToken(k, { typ: "ID" }) }) }),
      "ACTOR_TOKEN_INVALID",
      "NOT_ACCESS_TOKEN",
    ],
  ])("%s → %s (%s)", async (_name, make, reason, detail) => {
    const { deps, recorded } = fakeDeps(keys);
    const { response, json } = await post(deps, make(keys).body, FORM);
    expect(response.status).toBe(400);
    expect(json.error).toBe("invalid_request");
    expect(recorded.audit).toHaveLength(1);
    expect(recorded.audit[0]).toMatchObject({ outcome: "denied", reason });
    expect(recorded.audit[0]?.detail).toContain(detail);
    expect(recorded.delegation).toEqual([]);
    expect(recorded.assumeRole).toEqual([]);
  });

  it("delegates only for the workload its sidecar serves: another workload's subject token is refused before policy or Keycloak", async () => {
    const { deps, recorded } = fakeDeps(keys, { servedClientId: "reports" });
    const { response } = await post(deps, exchangeForm(keys), FORM);
    expect(response.status).toBe(400);
    expect(recorded.audit[0]).toMatchObject({ outcome: "denied", reason: "SUBJECT_CLIENT_MISMATCH" });
    expect(recorded.audit[0]?.detail).toContain("delegates for reports only");
    expect(recorded.delegation).toEqual([]);
    const served = fakeDeps(keys, { servedClientId: "billing" });
    expect((await post(served.deps, exchangeForm(keys), FORM)).response.status).toBe(200);
  });

  it("answers 405 to anything but POST", async () => {
    const { deps } = fakeDeps(keys);
    const response = await createTokenExchangeApp(deps).request("/v1/token", { method: "GET" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("POST");
  });

  it("carries its own path: mounted at the root of the serving app, it answers POST /v1/token only", async () => {
    const { deps } = fakeDeps(keys);
    const parent = new Hono();
    parent.get("/healthz", (c) => c.text("ok"));
    parent.route("/", createTokenExchangeApp(deps));
    expect((await parent.request("/v1/token", { method: "POST", headers: FORM, body: exchangeForm(keys) })).status).toBe(200);
    expect((await parent.request("/healthz")).status).toBe(200);
    expect((await parent.request("/", { method: "POST", headers: FORM, body: exchangeForm(keys) })).status).toBe(404);
  });

  it("reads a bounded body that is not a form before refusing it (the connection stays usable: nothing left to drain)", async () => {
    const { deps, recorded } = fakeDeps(keys);
    const request = new Request("http://127.0.0.1/v1/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ pad: "x".repeat(4000) }),
    });
    const response = await createTokenExchangeApp(deps).fetch(request);
    expect(response.status).toBe(415);
    expect(recorded.audit[0]?.reason).toBe("REQUEST_NOT_FORM");
    expect(request.bodyUsed).toBe(true);
  });

  it("reads the body of another method before its 405 (nothing left to drain)", async () => {
    const { deps } = fakeDeps(keys);
    const request = new Request("http://127.0.0.1/v1/token", { method: "PUT", headers: FORM, body: exchangeForm(keys) });
    const response = await createTokenExchangeApp(deps).fetch(request);
    expect(response.status).toBe(405);
    expect(request.bodyUsed).toBe(true);
  });

  it("refuses a declared Content-Length over the limit without reading the body", async () => {
    const { deps, recorded } = fakeDeps(keys);
    const { response } = await post(deps, "grant_type=x", { ...FORM, "content-length": String(DEFAULT_LIMITS.maxBodyBytes + 1) });
    expect(response.status).toBe(413);
    expect(recorded.audit[0]?.reason).toBe("REQUEST_TOO_LARGE");
  });
});

describe("POST /v1/token — abuse resistance", () => {
  it("accepts an actor token once: a replay is refused", async () => {
    const { deps, recorded } = fakeDeps(keys);
    const body = exchangeForm(keys);
    expect((await post(deps, body)).response.status).toBe(200);
    const again = await post(deps, body);
    expect(again.response.status).toBe(400);
    expect(again.json.error).toBe("invalid_request");
    expect(recorded.audit.map((e) => e.reason)).toEqual([undefined, "ACTOR_TOKEN_REPLAYED"]);
    expect(recorded.assumeRole).toHaveLength(1);
  });

  it("rate-limits per agent with 429 and Retry-After; other agents are not affected", async () => {
    const { deps, recorded, clock } = fakeDeps(keys);
    deps.rateLimiter = tokenBucketLimiter({ burst: 2, perSecond: 0.5 }, clock);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(deps, exchangeForm(keys))).response.status);
    expect(statuses).toEqual([200, 200, 429]);
    const limited = await post(deps, exchangeForm(keys));
    expect(limited.response.headers.get("retry-after")).toBe("2");
    expect(limited.json.error).toBe("temporarily_unavailable");
    expect(recorded.audit.at(-1)?.reason).toBe("RATE_LIMITED");
    const other = await post(deps, exchangeForm(keys, { actor_token: actorToken(keys, { sub: "sa-other", azp: "agent-copilot" }) }));
    expect(other.response.status).toBe(200);
  });

  it("answers 503 while no policy is loaded", async () => {
    const { deps } = fakeDeps(keys, { policy: { current: () => undefined } });
    const { response, json } = await post(deps, exchangeForm(keys));
    expect(response.status).toBe(503);
    expect(json.error).toBe("temporarily_unavailable");
  });
});

describe("POST /v1/token — minting failures", () => {
  it("refuses to use a delegated token that does not carry the chain as SourceIdentity", async () => {
    const { deps, recorded } = fakeDeps(keys);
    deps.delegation = {
      token: () =>
        Promise.resolve(
          signRaw({ alg: "RS256", kid: "k1" }, claims({ sub: "wl-billing", [AWS_SOURCE_IDENTITY_CLAIM]: "someone-else" }), keys.rsa),
        ),
    };
    const { response, json } = await post(deps, exchangeForm(keys));
    expect(response.status).toBe(500);
    expect(json.error).toBe("server_error");
    expect(recorded.assumeRole).toEqual([]);
    expect(recorded.audit[0]).toMatchObject({ outcome: "error", reason: "DELEGATION_MISCONFIGURED", rule: "copilot" });
  });

  it("refuses a delegated token for another subject", async () => {
    const { deps, recorded } = fakeDeps(keys);
    deps.delegation = { token: () => Promise.resolve(signRaw({ alg: "RS256", kid: "k1" }, claims({ sub: "wl-reports" }), keys.rsa)) };
    expect((await post(deps, exchangeForm(keys, { resource: "storage" }))).response.status).toBe(500);
    expect(recorded.azureToken).toEqual([]);
  });

  it.each([
    ["STS refused (AWS_REJECTED)", new BrokerError("AWS_REJECTED", "AccessDenied"), 502, "server_error", "UPSTREAM_REJECTED"],
    [
      "STS unavailable (AWS_RETRYABLE)",
      new BrokerError("AWS_RETRYABLE", "IDPCommunicationError"),
      503,
      "temporarily_unavailable",
      "UPSTREAM_RETRYABLE",
    ],
    ["an unexpected exception", new Error("boom"), 500, "server_error", "INTERNAL"],
  ])("%s → %i %s", async (_name, failure, status, error, reason) => {
    const { deps, recorded } = fakeDeps(keys);
    deps.minter = { ...deps.minter, assumeRole: () => Promise.reject(failure) };
    const { response, json } = await post(deps, exchangeForm(keys));
    expect(response.status).toBe(status);
    expect(json).toEqual({ error, error_description: expect.any(String) as string });
    expect(recorded.audit).toHaveLength(1);
    expect(recorded.audit[0]).toMatchObject({ outcome: "error", reason });
    if (status === 503) expect(response.headers.get("retry-after")).toBe("5");
  });

  it("still answers when the audit sink throws", async () => {
    const { deps } = fakeDeps(keys, {
      audit: {
        emit: () => {
          throw new Error("disk full");
        },
      },
    });
    expect((await post(deps, exchangeForm(keys))).response.status).toBe(200);
  });
});
