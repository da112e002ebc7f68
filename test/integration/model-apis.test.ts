/**
 * Workloads and agents reach models on both clouds, and no more than their credentials allow. On the
 * shared trust domain: a realm applied by realm-sync, the strict STS and Entra emulators loaded from
 * its export-trust, the Bedrock Runtime and Azure OpenAI emulators authorizing from a customer-accounts
 * fixture, and real `cloud-broker serve` sidecars. The clients are the unmodified SDKs in child
 * processes: JS (`@aws-sdk/client-bedrock-runtime`, `openai` AzureOpenAI + `@azure/identity`) and
 * Python (boto3 `bedrock-runtime`, `openai` AzureOpenAI + azure-identity), and the demo's agent with
 * what `/v1/token` issued.
 */
import { generateKeyPairSync } from "node:crypto";
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BedrockRuntimeClient, BedrockRuntimeServiceException, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { TrustDomain } from "../../realm-config/model/schema.ts";
import { loadTrustExport } from "../../admin-scripts/trust/artifacts.ts";
import {
  parseCloudAccounts,
  startAzureOpenAiEmulator,
  startBedrockEmulator,
  startEntraEmulator,
  startStsEmulator,
  type AzureOpenAiEmulator,
  type BedrockEmulator,
  type EntraEmulator,
  type StsEmulator,
} from "../../deploy/local/cloud/index.ts";
import { runDemoProgram, runJsonProgram } from "../../deploy/local/demo/run-program.ts";
import { repoRoot } from "../../deploy/local/paths.ts";
import { caTrustEnv, ensureLocalPki, type LocalPki } from "../../deploy/local/pki/local-pki.ts";
import { startBroker, type BrokerProcess } from "../../deploy/local/stack/brokers.ts";
import { venvBin } from "../support/cloud/python.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";
import { recordStsSession } from "../support/world.ts";

const domain = inject("trustDomain");
const ACCOUNT = "246813579024";
const TENANT = "3c1e5a7b-9d2f-4a6c-8e0b-1d3f5a7c9e2b";
const APP_A = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const ROLE_MODELS = `arn:aws:iam::${ACCOUNT}:role/models`;
const ROLE_TEAM = `arn:aws:iam::${ACCOUNT}:role/team-models`;
const MICRO = "amazon.nova-micro-v1:0";
const LITE = "amazon.nova-lite-v1:0";
const COGNITIVE = "https://cognitiveservices.azure.com";
const profileArn = (id: string) => `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/${id}`;
const NOVA = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "bedrock:InvokeModel", Resource: "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-*" }],
};
const ONLY_MICRO = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["bedrock:InvokeModel"], Resource: [`arn:aws:bedrock:us-east-1::foundation-model/${MICRO}`] }],
};

const accounts = parseCloudAccounts({
  aws: {
    region: "us-east-1",
    foundationModels: [MICRO, LITE],
    inferenceProfiles: [
      { id: "alphanova01", account: ACCOUNT, model: MICRO, tags: { team: "alpha" } },
      { id: "betanova01", account: ACCOUNT, model: MICRO, tags: { team: "beta" } },
    ],
    roles: [
      { arn: ROLE_MODELS, policies: [{ name: "nova", document: NOVA }] },
      {
        arn: ROLE_TEAM,
        policies: [
          {
            name: "own-team-profiles",
            document: {
              Version: "2012-10-17",
              Statement: [
                {
                  Effect: "Allow",
                  Action: "bedrock:InvokeModel",
                  Resource: `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/*`,
                  Condition: { StringEquals: { "aws:ResourceTag/team": "${aws:PrincipalTag/team}" } },
                },
                {
                  Effect: "Allow",
                  Action: "bedrock:InvokeModel",
                  Resource: `arn:aws:bedrock:us-east-1::foundation-model/${MICRO}`,
                  Condition: {
                    StringLike: { "bedrock:InferenceProfileArn": `arn:aws:bedrock:us-east-1:${ACCOUNT}:application-inference-profile/*` },
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  },
  azure: {
    openai: { subscriptionId: "7b2d4f6a-8c0e-4a1b-9d3f-5a7c9e1b3d5f", resourceGroup: "models-it", account: "models-it-openai" },
    deployments: [
      { name: "gpt-4o-mini", model: "gpt-4o-mini", version: "2024-07-18" },
      { name: "gpt-4o", model: "gpt-4o", version: "2024-08-06" },
    ],
    roleAssignments: [
      {
        principal: { tenantId: TENANT, clientId: APP_A },
        role: "Cognitive Services OpenAI User",
        scope:
          "/subscriptions/7b2d4f6a-8c0e-4a1b-9d3f-5a7c9e1b3d5f/resourceGroups/models-it/providers/Microsoft.CognitiveServices/accounts/models-it-openai/deployments/gpt-4o-mini",
      },
    ],
  },
});

let fx: RealmFixture;
let dir: string;
let pki: LocalPki;
let sts: StsEmulator;
let entra: EntraEmulator;
let bedrock: BedrockEmulator;
let openai: AzureOpenAiEmulator;
const brokers = new Map<string, BrokerProcess>();
const secrets: Record<string, string> = {};

beforeAll(async () => {
  pki = await ensureLocalPki();
  dir = mkdtempSync(join(tmpdir(), "kcb-models-"));
  for (const name of ["chat-a", "chat-b", "copilot"]) secrets[name] = randomClientSecret();
  const delegation = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const delegationKeyFile = join(dir, "delegation.pem");
  writeFileSync(delegationKeyFile, delegation.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
  fx = await createRealmFixture({
    domain,
    prefix: "models",
    accessTokenLifespan: 3600,
    files: {
      ...Object.fromEntries(Object.entries(secrets).map(([n, s]) => [`${n}.secret`, s])),
      "delegation.pub.pem": delegation.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
    workloads: [
      {
        name: "chat-a",
        subject: "workload:chat-a",
        authentication: { clientSecret: { file: "chat-a.secret" } },
        aws: {
          roles: [
            { arn: ROLE_MODELS, maxSessionDuration: 3600 },
            { arn: ROLE_TEAM, maxSessionDuration: 3600 },
          ],
          sessionTags: { team: "alpha" },
        },
        azure: { identities: [{ name: "chat-a-openai", tenantId: TENANT, clientId: APP_A, scopes: [`${COGNITIVE}/.default`] }] },
      },
      {
        name: "chat-b",
        subject: "workload:chat-b",
        authentication: { clientSecret: { file: "chat-b.secret" } },
        aws: { roles: [{ arn: ROLE_TEAM, maxSessionDuration: 3600 }], sessionTags: { team: "beta" } },
      },
      { name: "copilot", subject: "agent:copilot", authentication: { clientSecret: { file: "copilot.secret" } } },
    ],
    agents: [
      {
        name: "copilot",
        match: { clientId: "copilot" },
        actFor: ["chat-a"],
        targets: [{ aws: { role: ROLE_MODELS, maxDuration: 900, sessionPolicy: ONLY_MICRO } }, { azure: { identity: "chat-a-openai" } }],
      },
    ],
  });
  fx.writeConfig((doc) => {
    // chat-a's sidecar holds the delegation key: its agent acts for chat-a only.
    for (const w of doc.workloads as Array<Record<string, unknown>>)
      if (w.name === "chat-a") w.agentDelegation = { privateKeyJwt: { publicKey: { file: "delegation.pub.pem" } } };
  });
  await fx.apply();
  const exported = await fx.run("export-trust");
  if (exported.exitCode !== 0) throw new Error(`export-trust exited ${exported.exitCode}: ${exported.stderr}`);
  const trust = loadTrustExport(join(fx.dir, "trust-export"));
  sts = await startStsEmulator({ trust, allowIssuerPort: true, onSessionIssued: recordStsSession });
  entra = await startEntraEmulator({ trust, pki });
  bedrock = await startBedrockEmulator({ sts, accounts, pki, eventLogFile: join(dir, "bedrock-events.jsonl") });
  openai = await startAzureOpenAiEmulator({ entra, accounts, pki, activityLogFile: join(dir, "azure-openai-activity.jsonl") });

  const config = TrustDomain.parse(fx.document);
  for (const name of ["chat-a", "chat-b"]) {
    const secretFile = join(dir, `${name}.secret`);
    writeFileSync(secretFile, secrets[name]!, { mode: 0o600 });
    const broker = await startBroker(
      {
        workload: config.workloads.find((w) => w.name === name)!,
        issuer: fx.issuer,
        authentication: { clientSecret: { file: secretFile } },
        stsEndpoint: sts.url,
        authorityHost: entra.url,
        dir: join(dir, "brokers", name),
        env: caTrustEnv(pki),
        ...(name === "chat-a" && {
          agents: { realmConfigFile: fx.configFile, delegationKeyFile, tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } },
        }),
      },
      () => undefined,
    );
    brokers.set(name, broker);
  }
});

afterAll(async () => {
  for (const broker of brokers.values()) await broker.stop();
  await Promise.all([bedrock?.close(), openai?.close(), sts?.close(), entra?.close()]);
  await fx?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What a workload next to `workload`'s sidecar gets: the sidecar's SDK variables and the local clouds' endpoints. */
function workloadEnv(workload: string, opts: { role?: string; modelId?: string; deployment?: string } = {}): Record<string, string> {
  const broker = brokers.get(workload)!;
  return {
    ...broker.env("aws-container", opts.role),
    ...(workload === "chat-a" && broker.env("azure-app-service")),
    AWS_REGION: "us-east-1",
    AWS_DEFAULT_REGION: "us-east-1",
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    AZURE_OPENAI_ENDPOINT: openai.url,
    OPENAI_API_VERSION: openai.apiVersion,
    BEDROCK_MODEL_ID: opts.modelId ?? MICRO,
    ...(workload === "chat-a" && { AZURE_OPENAI_DEPLOYMENT: opts.deployment ?? "gpt-4o-mini" }),
    ...caTrustEnv(pki),
  };
}

const jsWorkload = (env: Record<string, string>) => runDemoProgram("workload.ts", env);
const pythonWorkload = (env: Record<string, string>) =>
  runJsonProgram(venvBin("python"), [join(repoRoot, "test", "python", "model_apis.py")], { ...env, PYTHONDONTWRITEBYTECODE: "1" });

const eventsSince = (n: number) => bedrock.events.slice(n);
const activitySince = (n: number) => openai.activity.slice(n);

describe("a workload calls both models through its sidecar", () => {
  it.each([
    ["JS (@aws-sdk/client-bedrock-runtime ConverseCommand, openai AzureOpenAI + DefaultAzureCredential)", jsWorkload],
    ["Python (boto3 bedrock-runtime converse, openai AzureOpenAI + azure-identity)", pythonWorkload],
  ])("%s", async (_what, run) => {
    const [e0, a0] = [bedrock.events.length, openai.activity.length];
    const result = await run(workloadEnv("chat-a"));
    expect(result.bedrock).toMatchObject({ ok: true });
    expect(JSON.stringify(result.bedrock)).toContain(`[local Bedrock emulator, no model ran] ${MICRO} received 1 message(s)`);
    expect(result.azureOpenAi).toMatchObject({ ok: true });
    expect(JSON.stringify(result.azureOpenAi)).toContain("[local Azure OpenAI emulator, no model ran] deployment gpt-4o-mini");
    const events = eventsSince(e0);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      eventName: "Converse",
      userIdentity: {
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/models/chat-a@models`,
        principalTags: { team: "alpha" },
        sessionContext: { sessionIssuer: { arn: ROLE_MODELS } },
      },
      resources: [{ ARN: `arn:aws:bedrock:us-east-1::foundation-model/${MICRO}` }],
    });
    expect(events[0]?.errorCode).toBeUndefined();
    const records = activitySince(a0);
    expect(records.map((r) => [r.properties.modelDeploymentName, r.resultSignature, r.identity.claims.appid])).toEqual([
      ["gpt-4o-mini", "200", APP_A],
    ]);
  });
});

describe("an agent acting for the workload, with the credentials /v1/token issued", () => {
  it("invokes the model its session policy allows, is refused another (both events carry its source identity), and is refused an Azure deployment its identity has no role on", async () => {
    const [e0, a0] = [bedrock.events.length, openai.activity.length];
    const agentDir = join(dir, "agent");
    rmSync(agentDir, { recursive: true, force: true });
    const subjectFile = join(mkdtempSync(join(dir, "agent-")), "subject-token");
    const res = await fetch(`${fx.issuer}/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: "chat-a",
        client_secret: secrets["chat-a"]!,
        scope: "kcb-agents",
      }),
    });
    writeFileSync(subjectFile, ((await res.json()) as { access_token: string }).access_token, { mode: 0o600 });
    const agentSecret = join(dir, "copilot.secret");
    writeFileSync(agentSecret, secrets.copilot!, { mode: 0o600 });
    const result = await runDemoProgram("agent.ts", {
      ISSUER: fx.issuer,
      AGENT_CLIENT_ID: "copilot",
      AGENT_SECRET_FILE: agentSecret,
      SUBJECT_TOKEN_FILE: subjectFile,
      BROKER_URL: brokers.get("chat-a")!.agentsUrl!,
      AWS_ROLE: ROLE_MODELS,
      AZURE_IDENTITY: "chat-a-openai",
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: "/dev/null",
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
      AZURE_OPENAI_ENDPOINT: openai.url,
      OPENAI_API_VERSION: openai.apiVersion,
      BEDROCK_MODELS: `${MICRO},${LITE}`,
      AZURE_OPENAI_DEPLOYMENTS: "gpt-4o-mini,gpt-4o",
      ...caTrustEnv(pki),
    });
    expect(result.bedrock?.expiresIn).toBeGreaterThan(850);
    expect(result.bedrock?.expiresIn).toBeLessThanOrEqual(900);
    expect(result.bedrock).toMatchObject({
      ok: true,
      calls: { [MICRO]: { ok: true }, [LITE]: { ok: false, error: "AccessDeniedException" } },
    });
    expect(result.azureOpenAi).toMatchObject({ ok: true, calls: { "gpt-4o-mini": { ok: true }, "gpt-4o": { ok: false, status: 401 } } });

    const events = eventsSince(e0);
    expect(
      events.map((e) => [
        e.requestParameters.modelId,
        e.errorCode ?? "allowed",
        (e.userIdentity.sessionContext as { sourceIdentity?: string }).sourceIdentity,
        e.userIdentity.arn,
      ]),
    ).toEqual([
      [MICRO, "allowed", "copilot@chat-a", `arn:aws:sts::${ACCOUNT}:assumed-role/models/copilot@chat-a`],
      [LITE, "AccessDeniedException", "copilot@chat-a", `arn:aws:sts::${ACCOUNT}:assumed-role/models/copilot@chat-a`],
    ]);
    expect(events[1]?.errorMessage).toMatch(/because no session policy allows the bedrock:InvokeModel action$/);
    const records = activitySince(a0);
    expect(
      records.map((r) => [r.properties.modelDeploymentName, r.resultSignature, r.properties.errorCode, r.identity.claims.appid]),
    ).toEqual([
      ["gpt-4o-mini", "200", undefined, APP_A],
      ["gpt-4o", "401", "PermissionDenied", APP_A],
    ]);
    // The log file is the same record, as JSON lines.
    const logged = readFileSync(join(dir, "bedrock-events.jsonl"), "utf8")
      .trim()
      .split("\n")
      .slice(e0)
      .map((l) => JSON.parse(l) as { eventID: string });
    expect(logged.map((e) => e.eventID)).toEqual(events.map((e) => e.eventID));
  });
});

describe("attribute-based access: one role shared by two workloads, keyed on ${aws:PrincipalTag/team}", () => {
  it.each([
    ["chat-a", "alphanova01", true],
    ["chat-a", "betanova01", false],
    ["chat-b", "betanova01", true],
    ["chat-b", "alphanova01", false],
  ])("%s (its session tag) invoking inference profile %s → allowed %s", async (workload, profile, allowed) => {
    const e0 = bedrock.events.length;
    const result = await jsWorkload({
      ...workloadEnv(workload, { role: "team-models", modelId: profileArn(profile) }),
      AZURE_OPENAI_DEPLOYMENT: "",
    });
    expect(result.bedrock?.ok).toBe(allowed);
    const [event] = eventsSince(e0);
    expect(event?.userIdentity.arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/team-models/${workload}@team-models`);
    expect(event?.errorCode).toBe(allowed ? undefined : "AccessDeniedException");
    if (!allowed) expect(event?.errorMessage).toContain(`on resource: ${profileArn(profile)} because no identity-based policy allows`);
  });
});

describe("expired, tampered and unknown credentials are refused with the vendors' codes", () => {
  async function awsCredentials(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken: string }> {
    const env = brokers.get("chat-a")!.env("aws-container", "models");
    const res = await fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
      headers: { authorization: readFileSync(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE!, "utf8") },
    });
    const doc = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
    return { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token };
  }
  async function azureToken(): Promise<string> {
    const env = brokers.get("chat-a")!.env("azure-app-service");
    const res = await fetch(`${env.IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=${encodeURIComponent(COGNITIVE)}`, {
      headers: { "x-identity-header": env.IDENTITY_HEADER! },
    });
    return ((await res.json()) as { access_token: string }).access_token;
  }
  const converse = (endpoint: string, credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) =>
    new BedrockRuntimeClient({ region: "us-east-1", endpoint, credentials, maxAttempts: 1 }).send(
      new ConverseCommand({ modelId: MICRO, messages: [{ role: "user", content: [{ text: "hi" }] }] }),
    );
  async function bedrockRefusal(promise: Promise<unknown>): Promise<[string, number | undefined]> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BedrockRuntimeServiceException);
    const e = error as BedrockRuntimeServiceException;
    return [e.name, e.$metadata.httpStatusCode];
  }

  it("Bedrock: the real credentials work; unknown, tampered and expired ones get UnrecognizedClientException, InvalidSignatureException, ExpiredTokenException (403)", async () => {
    const creds = await awsCredentials();
    await converse(bedrock.url, creds);
    expect(await bedrockRefusal(converse(bedrock.url, { ...creds, accessKeyId: "ASIA7UNKNOWN7UNKNOWN" }))).toEqual([
      "UnrecognizedClientException",
      403,
    ]);
    expect(await bedrockRefusal(converse(bedrock.url, { ...creds, sessionToken: `${creds.sessionToken.slice(0, -8)}AAAAAAAA` }))).toEqual([
      "UnrecognizedClientException",
      403,
    ]);
    expect(await bedrockRefusal(converse(bedrock.url, { ...creds, secretAccessKey: `${creds.secretAccessKey.slice(0, -4)}AAAA` }))).toEqual(
      ["InvalidSignatureException", 403],
    );
    // The same STS sessions, seen by a Bedrock endpoint whose clock is past their expiry.
    const later = await startBedrockEmulator({ sts, accounts, pki, clock: () => Date.now() + 2 * 3600_000 });
    try {
      expect(await bedrockRefusal(converse(later.url, creds))).toEqual(["ExpiredTokenException", 403]);
    } finally {
      await later.close();
    }
  });

  it("Azure OpenAI: the real token works; a tampered, foreign or expired one gets 401 with the service's message", async () => {
    const token = await azureToken();
    const call = (endpoint: string, bearer: string) =>
      fetch(`${endpoint}/openai/deployments/gpt-4o-mini/chat/completions?api-version=${openai.apiVersion}`, {
        method: "POST",
        headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
        body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await call(openai.url, token)).status).toBe(200);
    const [h, p] = token.split(".");
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...(JSON.parse(Buffer.from(p!, "base64url").toString()) as object), appid: "00000000-0000-4000-8000-000000000000" })).toString("base64url")}.${token.split(".")[2]}`;
    const later = await startAzureOpenAiEmulator({ entra, accounts, pki, clock: () => Date.now() + 2 * 3600_000 });
    try {
      for (const [endpoint, bearer] of [
        [openai.url, forged],
        [openai.url, `${token.slice(0, -6)}AAAAAA`],
        [openai.url, "not-a-token"],
        [later.url, token],
      ] as const) {
        const res = await call(endpoint, bearer);
        expect(res.status).toBe(401);
        expect(await res.json()).toEqual({
          statusCode: 401,
          message:
            "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
        });
      }
    } finally {
      await later.close();
    }
  });
});
