/**
 * The agents' RFC 8693 endpoint with REAL Keycloak tokens (own realm), the strict STS and Entra
 * emulators loaded from the trust `export-trust` generates, and the unmodified AWS SDK consuming
 * the issued token type. Keycloak is set up here the way realm-sync must set it up for agents
 * (broker/agents/README.md, "What realm-sync provides"): the `kcb-agents`, `kcb-aws`, `kcb-azure`
 * scopes and one delegation client per (agent, workload).
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { exportJWK, generateKeyPair } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import {
  AGENTS_AUDIENCE,
  AGENTS_SCOPE,
  AWS_AUDIENCE,
  AWS_SCOPE,
  AWS_SOURCE_IDENTITY_CLAIM,
  AZURE_AUDIENCE,
  AZURE_SCOPE,
  delegationClientId,
  agentSessionName,
} from "../../realm-config/model/conventions.ts";
import { TrustDomain } from "../../realm-config/model/schema.ts";
import { buildTrustExport } from "../../admin-scripts/trust/export.ts";
import { createTokenExchangeApp } from "../../broker/agents/app.ts";
import type { AuditEvent } from "../../broker/agents/audit.ts";
import { decodeAwsCredentialsToken } from "../../broker/agents/aws-credentials-token.ts";
import { keycloakDelegatedTokens, privateKeyJwtAuth } from "../../broker/agents/keycloak-delegation.ts";
import { openFilePolicyStore, type FilePolicyStore } from "../../broker/agents/policy/file-store.ts";
import { cloudMinter } from "../../broker/agents/minter.ts";
import { ACCESS_TOKEN_TYPE, AWS_CREDENTIALS_TOKEN_TYPE, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "../../broker/agents/protocol.ts";
import { tokenBucketLimiter } from "../../broker/agents/rate-limit.ts";
import { memoryReplayCache } from "../../broker/agents/replay.ts";
import { remoteKeys } from "../../broker/agents/verify/remote-keys.ts";
import { silentLogger } from "../../broker/log.ts";
import type { EntraEmulator, StsEmulator } from "../../deploy/local/cloud/index.ts";
import { startClouds, type Clouds } from "../support/world.ts";

const ROOT = resolve(import.meta.dirname, "../..");
const domain = inject("trustDomain");
const cluster = domain.clusters[0]!;
const realm = `agents-${randomUUID().slice(0, 8)}`;
const issuer = `${domain.publicUrl}/realms/${realm}`;
const tokenEndpoint = `${issuer}/protocol/openid-connect/token`;

const ROLE_READER = "arn:aws:iam::111122223333:role/billing-reader";
const ROLE_WRITER = "arn:aws:iam::111122223333:role/billing-writer";
const ROLE_REPORTS = "arn:aws:iam::444455556666:role/reports";
const TENANT = "0b1f4a1e-8f6e-4c8a-9b3b-1f2e3d4c5b6a";
const AZ_CLIENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const VAULT = "https://vault.azure.net/.default";
const BILLING_SUBJECT = "billing-prod";
const REPORTS_SUBJECT = "reports-prod";
const SESSION_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::billing/reports/*" }],
};

const admin = new KcAdminClient({ baseUrl: cluster.url, realmName: "master" });
const secrets = new Map<string, string>();
const audit: AuditEvent[] = [];
let dir: string;
let clouds: Clouds;
let sts: StsEmulator;
let entra: EntraEmulator;
let store: FilePolicyStore;
let clockOffsetMs = 0;
let app: ReturnType<typeof createTokenExchangeApp>;

function trustDomain(entraScope: string): Record<string, unknown> {
  return {
    version: 1,
    realm,
    issuer,
    clusters: [{ name: "eu", adminUrl: cluster.url, auth: { username: "admin", password: { env: "UNUSED" } } }],
    signingKeys: [
      {
        name: "main",
        certificate: { file: "unused.crt" },
        keystore: { file: "main.p12", passwordVault: "main-keystore" },
        status: "active",
      },
    ],
    workloads: [
      {
        name: "billing",
        subject: BILLING_SUBJECT,
        authentication: { clientSecret: { env: "UNUSED" } },
        aws: { roles: [{ arn: ROLE_READER, maxSessionDuration: 3600 }, { arn: ROLE_WRITER }] },
        azure: { identities: [{ name: "storage", tenantId: TENANT, clientId: AZ_CLIENT, scopes: [entraScope, VAULT] }] },
      },
      {
        name: "reports",
        subject: REPORTS_SUBJECT,
        authentication: { clientSecret: { env: "UNUSED" } },
        aws: { roles: [{ arn: ROLE_REPORTS }] },
      },
    ],
    agents: [
      {
        name: "copilot",
        match: { clientId: "agent-copilot" },
        actFor: ["billing"],
        targets: [
          { aws: { role: ROLE_READER, maxDuration: 1800, sessionPolicy: SESSION_POLICY } },
          { azure: { identity: "storage", scopes: [entraScope] } },
        ],
      },
      // Allowed by policy, but realm-sync has not created its delegation client: must fail closed.
      { name: "helper", match: { clientId: "agent-helper" }, actFor: ["reports"], targets: [{ aws: { role: ROLE_REPORTS } }] },
    ],
  };
}

// --- Keycloak set-up, as realm-sync does it for agents -------------------------------------------

function hardcoded(name: string, claim: string, value: string, jsonType: "String" | "JSON" = "String") {
  return {
    name,
    protocol: "openid-connect",
    protocolMapper: "oidc-hardcoded-claim-mapper",
    config: {
      "claim.name": claim,
      "claim.value": value,
      "jsonType.label": jsonType,
      "access.token.claim": "true",
      "id.token.claim": "false",
      "userinfo.token.claim": "false",
    },
  };
}

async function scope(name: string, mapper: Record<string, unknown>): Promise<void> {
  await admin.clientScopes.create({
    name,
    protocol: "openid-connect",
    attributes: { "include.in.token.scope": "true", "display.on.consent.screen": "false" },
    protocolMappers: [mapper],
  });
}

async function secretClient(clientId: string, extra: Record<string, unknown> = {}): Promise<void> {
  const secret = randomUUID();
  secrets.set(clientId, secret);
  await admin.clients.create({
    clientId,
    secret,
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
    ...extra,
  });
}

async function setUpKeycloak(delegationJwk: Record<string, unknown>): Promise<void> {
  await admin.auth({ grantType: "password", clientId: "admin-cli", ...domain.admin });
  await admin.realms.create({ realm, enabled: true, accessTokenLifespan: 300 });
  admin.setConfig({ realmName: realm });
  await scope(AGENTS_SCOPE, hardcoded("kcb-audience", "aud", AGENTS_AUDIENCE));
  await scope(AWS_SCOPE, hardcoded("kcb-audience", "aud", AWS_AUDIENCE));
  await scope(AZURE_SCOPE, hardcoded("kcb-audience", "aud", AZURE_AUDIENCE));
  await scope("test-may-act-other", hardcoded("may-act", "may_act", JSON.stringify({ client_id: "agent-other" }), "JSON"));

  // Workloads (sub = configured subject) and agents (their own Keycloak clients).
  const workloadScopes = {
    defaultClientScopes: ["service_account"],
    optionalClientScopes: [AGENTS_SCOPE, AWS_SCOPE, "test-may-act-other"],
  };
  await secretClient("billing", { ...workloadScopes, protocolMappers: [hardcoded("kcb-sub", "sub", BILLING_SUBJECT)] });
  await secretClient("reports", { ...workloadScopes, protocolMappers: [hardcoded("kcb-sub", "sub", REPORTS_SUBJECT)] });
  for (const agent of ["agent-copilot", "agent-rogue", "agent-helper"])
    await secretClient(agent, { defaultClientScopes: ["basic", "service_account"], optionalClientScopes: [AGENTS_SCOPE] });

  // The delegation client of copilot acting for billing: private_key_jwt with the broker's key;
  // sub = billing's subject; the chain in the SourceIdentity claim; aud only through kcb-aws / kcb-azure.
  await admin.clients.create({
    clientId: delegationClientId("copilot", "billing"),
    publicClient: false,
    serviceAccountsEnabled: true,
    standardFlowEnabled: false,
    directAccessGrantsEnabled: false,
    clientAuthenticatorType: "client-jwt",
    attributes: {
      "use.jwks.url": "false",
      "use.jwks.string": "true",
      "jwks.string": JSON.stringify({ keys: [delegationJwk] }),
      "token.endpoint.auth.signing.alg": "RS256",
    },
    defaultClientScopes: ["service_account"],
    optionalClientScopes: [AWS_SCOPE, AZURE_SCOPE],
    protocolMappers: [
      hardcoded("kcb-sub", "sub", BILLING_SUBJECT),
      hardcoded("kcb-source-identity", AWS_SOURCE_IDENTITY_CLAIM.replace(/\./g, "\\."), agentSessionName("copilot", "billing")),
    ],
  });
}

async function clientToken(clientId: string, scopeParam: string): Promise<string> {
  const response = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: clientId,
      client_secret: secrets.get(clientId) ?? "",
      scope: scopeParam,
    }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

// --- Set-up and tear-down ------------------------------------------------------------------------

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kcb-agents-it-"));
  const { publicKey, privateKey } = await generateKeyPair("RS256");
  const kid = "broker-delegation-1";
  await setUpKeycloak({ ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" });

  const entraResource = "api://kcb-emulator-resource";
  const config = trustDomain(`${entraResource}/.default`);
  const trust = buildTrustExport(TrustDomain.parse(config));
  clouds = await startClouds(trust, { resource: entraResource });
  ({ sts, entra } = clouds);

  writeFileSync(join(dir, "trust-domain.yaml"), stringify(config));
  store = openFilePolicyStore({ file: join(dir, "trust-domain.yaml"), issuer, env: {}, log: silentLogger, watch: false });

  const clock = { now: () => Date.now() + clockOffsetMs };
  app = createTokenExchangeApp({
    verifier: { issuer, audience: AGENTS_AUDIENCE, keys: remoteKeys(new URL(`${issuer}/protocol/openid-connect/certs`)) },
    policy: store,
    // The broker core's own STS and Entra adapters (the real SDKs), pointed at the emulators.
    minter: cloudMinter({ region: "us-east-1", stsEndpoint: sts.url, authorityHost: entra.url, timeoutMs: 5_000, maxAttempts: 1 }),
    delegation: keycloakDelegatedTokens({ issuer, clientAuth: privateKeyJwtAuth(privateKey, kid), clock }),
    clock,
    audit: { emit: (event) => audit.push(event) },
    rateLimiter: tokenBucketLimiter({ burst: 50, perSecond: 5 }, clock),
    replay: memoryReplayCache({}, clock),
  });
});

afterAll(async () => {
  store?.close();
  await clouds?.close();
  admin.setConfig({ realmName: "master" });
  await admin.auth({ grantType: "password", clientId: "admin-cli", ...domain.admin });
  await admin.realms.del({ realm }).catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function exchange(params: Record<string, string | undefined>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, v);
  const before = audit.length;
  const response = await app.request("/v1/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: body.toString(),
  });
  const json = (await response.json()) as Record<string, string | number>;
  const events = audit.slice(before);
  expect(events).toHaveLength(1);
  const presented = [params.subject_token, params.actor_token].filter((t): t is string => t !== undefined);
  for (const token of presented) expect(JSON.stringify(events)).not.toContain(token);
  return { status: response.status, json, event: events[0]! };
}

async function request(overrides: Record<string, string | undefined> = {}) {
  return {
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: await clientToken("billing", AGENTS_SCOPE),
    subject_token_type: JWT_TOKEN_TYPE,
    actor_token: await clientToken("agent-copilot", AGENTS_SCOPE),
    actor_token_type: JWT_TOKEN_TYPE,
    resource: ROLE_READER,
    ...overrides,
  };
}

const run = promisify(execFile);

/** The unmodified AWS SDK for JS in a child process: default credential chain, then GetCallerIdentity (SigV4 checked by the emulator). */
async function callerIdentityWith(env: Record<string, string>): Promise<{ arn: string; account: string }> {
  const code = [
    'import { STSClient, GetCallerIdentityCommand } from "@aws-sdk/client-sts";',
    'const client = new STSClient({ endpoint: process.env.STS_URL, region: "us-east-1" });',
    "const id = await client.send(new GetCallerIdentityCommand({}));",
    "process.stdout.write(JSON.stringify({ arn: id.Arn, account: id.Account }));",
  ].join("\n");
  const { stdout } = await run(process.execPath, ["--input-type=module", "-e", code], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: dir,
      STS_URL: sts.url,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
      AWS_CONFIG_FILE: join(dir, "none"),
      ...env,
    },
  });
  return JSON.parse(stdout) as { arn: string; account: string };
}

// --- The tests -------------------------------------------------------------------------------------

describe("agents: token exchange with real Keycloak tokens and the strict cloud emulators", () => {
  it("an agent acting for a workload gets narrowed AWS credentials carrying the chain; the unmodified AWS SDK uses them", async () => {
    const { status, json, event } = await exchange(await request());
    expect(status).toBe(200);
    expect(json).toMatchObject({ issued_token_type: AWS_CREDENTIALS_TOKEN_TYPE, token_type: "N_A" });
    expect(json.expires_in).toBeGreaterThan(1790);
    expect(json.expires_in).toBeLessThanOrEqual(1800);
    const document = decodeAwsCredentialsToken(String(json.access_token));

    // What STS saw: the delegated Keycloak token (sub = the workload), the chain, the narrowing.
    const session = sts.sessions().at(-1)!;
    expect(session).toMatchObject({
      roleArn: ROLE_READER,
      subject: BILLING_SUBJECT,
      audience: AWS_AUDIENCE,
      issuer,
      sessionName: "copilot@billing",
      sourceIdentity: "copilot@billing",
      sessionPolicy: JSON.stringify(SESSION_POLICY),
      accessKeyId: document.AccessKeyId,
    });
    // The rule's 1800 s, not the role's 3600 s (STS expirations have whole seconds).
    expect(Math.ceil((session.expiration.getTime() - session.issuedAt.getTime()) / 1000)).toBe(1800);
    expect(event).toMatchObject({
      outcome: "allowed",
      rule: "copilot",
      subject: { name: "billing", sub: BILLING_SUBJECT },
      actor: { clientId: "agent-copilot" },
      issued: { sourceIdentity: "copilot@billing", accessKeyId: document.AccessKeyId },
    });

    // credential_process: the client only base64url-decodes access_token.
    writeFileSync(join(dir, "response.json"), JSON.stringify(json));
    writeFileSync(
      join(dir, "decode.mjs"),
      'import { readFileSync } from "node:fs";\nprocess.stdout.write(Buffer.from(JSON.parse(readFileSync(process.argv[2], "utf8")).access_token, "base64url").toString("utf8"));\n',
    );
    writeFileSync(
      join(dir, "aws-config"),
      `[profile agent]\ncredential_process = "${process.execPath}" "${join(dir, "decode.mjs")}" "${join(dir, "response.json")}"\n`,
    );
    const viaProcess = await callerIdentityWith({ AWS_CONFIG_FILE: join(dir, "aws-config"), AWS_PROFILE: "agent" });
    expect(viaProcess).toEqual({ arn: session.assumedRoleArn, account: "111122223333" });

    // Container credentials (SDK fromHttp): the same decoded document served as is.
    const server: Server = createServer((_req, res) =>
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(document)),
    );
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    try {
      const port = (server.address() as { port: number }).port;
      const viaContainer = await callerIdentityWith({ AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/creds` });
      expect(viaContainer.arn).toBe(session.assumedRoleArn);
    } finally {
      server.close();
    }
  });

  it("an agent acting for a workload gets an Azure access token that the protected API accepts", async () => {
    const scope = `${entra.resource}/.default`;
    const { status, json, event } = await exchange(
      await request({ resource: undefined, audience: "storage", scope, requested_token_type: ACCESS_TOKEN_TYPE }),
    );
    expect(status).toBe(200);
    expect(json).toMatchObject({ issued_token_type: ACCESS_TOKEN_TYPE, token_type: "Bearer", scope });
    expect(entra.issued.at(-1)).toMatchObject({ tenant: TENANT, clientId: AZ_CLIENT, subject: BILLING_SUBJECT, issuer });
    const whoami = await fetch(`${entra.url}/resource/whoami`, { headers: { authorization: `Bearer ${String(json.access_token)}` } });
    expect(whoami.status).toBe(200);
    expect(event).toMatchObject({ outcome: "allowed", rule: "copilot", target: "azure:storage" });
  });

  it.each<[string, () => Promise<Record<string, string | undefined>>, number, string, string]>([
    [
      "no rule names the actor",
      async () => request({ actor_token: await clientToken("agent-rogue", AGENTS_SCOPE) }),
      400,
      "unauthorized_client",
      "AGENT_UNKNOWN",
    ],
    [
      "the agent may not act for that workload (wrong actor)",
      async () => request({ subject_token: await clientToken("reports", AGENTS_SCOPE), resource: ROLE_REPORTS }),
      400,
      "invalid_request",
      "ACTOR_NOT_PERMITTED",
    ],
    [
      "the subject's may_act forbids the actor",
      async () => request({ subject_token: await clientToken("billing", `${AGENTS_SCOPE} test-may-act-other`) }),
      400,
      "invalid_request",
      "SUBJECT_FORBIDS_ACTOR",
    ],
    [
      "a token from a foreign issuer (the master realm)",
      async () => request({ subject_token: await admin.getAccessToken() }),
      400,
      "invalid_request",
      "SUBJECT_TOKEN_INVALID",
    ],
    [
      "the workload's own AWS token (wrong audience)",
      async () => request({ subject_token: await clientToken("billing", AWS_SCOPE) }),
      400,
      "invalid_request",
      "SUBJECT_TOKEN_INVALID",
    ],
    ["a role the rule does not allow", async () => request({ resource: ROLE_WRITER }), 400, "invalid_target", "TARGET_NOT_ALLOWED"],
    [
      "an Azure scope wider than the rule's",
      async () => request({ resource: "storage", scope: VAULT }),
      400,
      "invalid_scope",
      "SCOPE_NOT_ALLOWED",
    ],
  ])("refuses when %s", async (_name, make, status, error, reason) => {
    const sessions = sts.sessions().length;
    const { status: got, json, event } = await exchange(await make());
    expect(got).toBe(status);
    expect(json.error).toBe(error);
    expect(event).toMatchObject({ outcome: "denied", reason, error });
    expect(sts.sessions()).toHaveLength(sessions);
  });

  it("refuses expired tokens (the broker's clock an hour ahead of Keycloak's)", async () => {
    const params = await request();
    clockOffsetMs = 3600_000;
    try {
      const { status, json, event } = await exchange(params);
      expect(status).toBe(400);
      expect(json.error).toBe("invalid_request");
      expect(event.reason).toBe("SUBJECT_TOKEN_INVALID");
      expect(event.detail).toContain("EXPIRED");
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("refuses a replayed actor token", async () => {
    const params = await request();
    expect((await exchange(params)).status).toBe(200);
    const again = await exchange(params);
    expect(again.status).toBe(400);
    expect(again.event.reason).toBe("ACTOR_TOKEN_REPLAYED");
  });

  it("answers 503 temporarily_unavailable (retryable) when STS cannot reach the issuer", async () => {
    sts.setFault("idp-communication-error", 1);
    const { status, json, event } = await exchange(await request());
    expect(status).toBe(503);
    expect(json.error).toBe("temporarily_unavailable");
    expect(event).toMatchObject({ outcome: "error", reason: "UPSTREAM_RETRYABLE", rule: "copilot" });
  });

  it("fails closed when realm-sync has not created the delegation client", async () => {
    const { status, json, event } = await exchange(
      await request({
        subject_token: await clientToken("reports", AGENTS_SCOPE),
        actor_token: await clientToken("agent-helper", AGENTS_SCOPE),
        resource: ROLE_REPORTS,
      }),
    );
    expect(status).toBe(500);
    expect(json.error).toBe("server_error");
    expect(event).toMatchObject({ outcome: "error", reason: "DELEGATION_MISCONFIGURED", rule: "helper" });
  });
});
