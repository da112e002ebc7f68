/**
 * The broker core end to end: a realm applied by realm-sync on both REAL Keycloak clusters, one
 * workload per authentication method (Kubernetes service-account token as federated assertion,
 * private_key_jwt, client secret), the cloud trust exported by realm-sync and loaded by the strict
 * STS and Entra emulators. The token source, the exchanges, the cache and the whole `cloud-broker
 * serve` process run unmodified against them.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { stringify } from "yaml";
import { loadTrustExport } from "../../admin-scripts/trust/artifacts.ts";
import { createSource, startBroker } from "../../broker/cli/serve.ts";
import { parseBrokerConfig, type Config } from "../../broker/config.ts";
import { createCredentialSource, type BrokerCredentialSource } from "../../broker/credential-source.ts";
import { BrokerError } from "../../broker/errors.ts";
import { createStsExchanger } from "../../broker/exchange/aws-sts.ts";
import { createLogger } from "../../broker/log.ts";
import { MetricsRegistry } from "../../broker/metrics.ts";
import { clientAuthFor } from "../../broker/token-source/client-auth.ts";
import { createKeycloakTokenSource, nodeKeycloakHttp, type KeycloakHttp } from "../../broker/token-source/keycloak.ts";
import type { EntraEmulator, StsEmulator } from "../../deploy/local/cloud/index.ts";
import { startKubeIssuer, type KubeIssuer } from "../../deploy/local/issuer/kube-issuer.ts";
import { freePort } from "../../deploy/local/net.ts";
import { repoRoot } from "../../deploy/local/paths.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";
import { startClouds, type Clouds } from "../support/world.ts";

const domain = inject("trustDomain");
const ACCOUNT = "456789012345";
const TENANT = "3c9e1f20-7a4b-4d6c-8e0f-2a1b3c4d5e6f";
const METHODS = ["kubernetes", "privateKeyJwt", "clientSecret"] as const;
type Method = (typeof METHODS)[number];
const WORKLOAD: Record<Method, { name: string; app: string }> = {
  kubernetes: { name: "core-k8s", app: "b0b0b0b0-0000-4000-8000-000000000001" },
  privateKeyJwt: { name: "core-pkjwt", app: "b0b0b0b0-0000-4000-8000-000000000002" },
  clientSecret: { name: "core-secret", app: "b0b0b0b0-0000-4000-8000-000000000003" },
};
const roleArn = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const SECRET = randomClientSecret();
const pkjwtKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });

let fx: RealmFixture;
let kube: KubeIssuer;
let clouds: Clouds;
let sts: StsEmulator;
let entra: EntraEmulator;
let dir: string;
const files = { saToken: "", privateKey: "", secret: "" };
const quiet = createLogger({ write: () => {} });

/** The broker config of one workload, as an operator would write it. */
function brokerConfig(method: Method, extra: Record<string, unknown> = {}): Config {
  const { name, app } = WORKLOAD[method];
  const authentication = {
    kubernetes: { kubernetes: { tokenFile: files.saToken } },
    privateKeyJwt: { privateKeyJwt: { keyFile: files.privateKey, alg: "RS256" } },
    clientSecret: { clientSecret: { file: files.secret } },
  }[method];
  const doc = {
    issuer: fx.issuer,
    clientId: name,
    authentication,
    aws: { region: "us-east-1", stsEndpoint: sts.url, roles: [{ name: "main", arn: roleArn(name), durationSeconds: 3600 }] },
    azure: {
      authorityHost: entra.url,
      identities: [{ name: "blob", tenantId: TENANT, clientId: app, scopes: [`${entra.resource}/.default`] }],
    },
    upstream: { timeoutSeconds: 10, maxAttempts: 3 },
    ...extra,
  };
  const result = parseBrokerConfig(stringify(doc));
  if (!result.ok) throw new Error(`broker config: ${JSON.stringify(result.errors)}`);
  return result.config;
}

const assumeRoleCalls = () => sts.calls.filter((c) => c.action === "AssumeRoleWithWebIdentity");

beforeAll(async () => {
  const pki = await ensureLocalPki();
  dir = mkdtempSync(join(tmpdir(), "kcb-broker-core-"));
  kube = await startKubeIssuer({ pki });
  fx = await createRealmFixture({
    domain,
    prefix: "broker-core",
    // Long enough that the clock-offset scenario below can move 56 min ahead without the real tokens expiring.
    accessTokenLifespan: 3600,
    files: { "core-secret.secret": SECRET, "core-pkjwt.pub.pem": pkjwtKeys.publicKey.export({ type: "spki", format: "pem" }).toString() },
    workloads: METHODS.map((method) => {
      const { name, app } = WORKLOAD[method];
      const authentication = {
        kubernetes: { kubernetes: { issuer: kube.issuer, serviceAccount: `system:serviceaccount:payments:${name}` } },
        privateKeyJwt: { privateKeyJwt: { publicKey: { file: "core-pkjwt.pub.pem" } } },
        clientSecret: { clientSecret: { file: "core-secret.secret" } },
      }[method];
      return {
        name,
        subject: `workload:${name}`,
        authentication,
        aws: { roles: [{ arn: roleArn(name), maxSessionDuration: 3600 }] },
        azure: {
          identities: [{ name: `${name}-blob`, tenantId: TENANT, clientId: app, scopes: ["api://kcb-emulator-resource/.default"] }],
        },
      };
    }),
  });
  await fx.apply();
  const exported = await fx.run("export-trust");
  expect(exported.exitCode, exported.stderr).toBe(0);
  const trust = loadTrustExport(join(fx.dir, "trust-export"));
  clouds = await startClouds(trust);
  ({ sts, entra } = clouds);

  files.saToken = join(dir, "sa-token");
  await kube.writeProjectedToken(files.saToken, { namespace: "payments", serviceAccount: WORKLOAD.kubernetes.name, audience: fx.issuer });
  files.privateKey = join(dir, "pkjwt.pem");
  writeFileSync(files.privateKey, pkjwtKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), { mode: 0o600 });
  files.secret = join(dir, "secret");
  writeFileSync(files.secret, `${SECRET}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await clouds?.close();
  await fx?.remove();
  await kube?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the workload token source against real Keycloak", () => {
  it.each(METHODS)("gets one token per audience with %s client authentication", async (method) => {
    const config = brokerConfig(method);
    const source = createKeycloakTokenSource({
      issuer: config.issuer,
      clientId: config.clientId,
      auth: clientAuthFor(config.authentication),
      timeoutMs: 10_000,
    });
    for (const [audience, aud] of [
      ["aws", "sts.amazonaws.com"],
      ["azure", "api://AzureADTokenExchange"],
    ] as const) {
      const { token, expiresAt } = await source.fetch(audience);
      const claims = decodeJwt(token);
      expect(claims).toMatchObject({ iss: fx.issuer, aud, sub: `workload:${WORKLOAD[method].name}` });
      expect(Math.abs(expiresAt.getTime() - (claims.exp ?? 0) * 1000)).toBeLessThan(2_000);
    }
  });

  it("refuses a wrong client secret as KEYCLOAK_REJECTED", async () => {
    const wrong = join(dir, "wrong-secret");
    writeFileSync(wrong, "not-the-secret");
    const config = brokerConfig("clientSecret");
    const source = createKeycloakTokenSource({
      issuer: config.issuer,
      clientId: config.clientId,
      auth: clientAuthFor({ clientSecret: { file: wrong, method: "client_secret_post" } }),
      timeoutMs: 10_000,
    });
    await expect(source.fetch("aws")).rejects.toMatchObject({ code: "KEYCLOAK_REJECTED" });
  });
});

describe("the credential source against real Keycloak and the strict emulators", () => {
  it.each(METHODS)("gets STS credentials and an Entra token that the emulators accept (%s)", async (method) => {
    const metrics = new MetricsRegistry();
    const source = await createSource(brokerConfig(method), quiet, metrics);
    const name = WORKLOAD[method].name;

    const creds = await source.aws("main");
    expect(creds.assumedRoleArn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${name}@main`);
    const sdk = new STSClient({
      endpoint: sts.url,
      region: "us-east-1",
      credentials: { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken },
    });
    const identity = await sdk.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toBe(creds.assumedRoleArn);

    const azure = await source.azure("blob");
    expect(azure).toMatchObject({ resource: entra.resource, tenantId: TENANT, clientId: WORKLOAD[method].app });
    const whoami = await fetch(`${entra.url}/resource/whoami`, { headers: { authorization: `Bearer ${azure.accessToken}` } });
    expect(whoami.status).toBe(200);
    expect(source.ready()).toBe(true);
  });

  it("makes exactly one Keycloak call and one STS call for 1,000 concurrent cold requests", async () => {
    const metrics = new MetricsRegistry();
    const source = await createSource(brokerConfig("clientSecret"), quiet, metrics);
    const before = assumeRoleCalls().length;
    const all = await Promise.all(Array.from({ length: 1000 }, () => source.aws("main")));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(assumeRoleCalls().length - before).toBe(1);
    expect(await metrics.render()).toContain('cloud_broker_upstream_calls_total{upstream="keycloak",outcome="ok"} 1\n');
  });

  it("retries IDPCommunicationError within the exchange and passes a refusal on as AWS_REJECTED", async () => {
    const source = await createSource(brokerConfig("clientSecret"), quiet, new MetricsRegistry());
    sts.setFault("idp-communication-error", 2);
    const before = assumeRoleCalls().length;
    await expect(source.aws("main")).resolves.toMatchObject({ accountId: ACCOUNT });
    expect(
      assumeRoleCalls()
        .slice(before)
        .map((c) => c.code ?? "ok"),
    ).toEqual(["IDPCommunicationError", "IDPCommunicationError", "ok"]);

    // A role whose trust policy names another workload: the emulator answers AccessDenied.
    const stranger = await createSource(
      {
        ...brokerConfig("clientSecret"),
        aws: {
          region: "us-east-1",
          stsEndpoint: sts.url,
          roles: [{ name: "main", arn: roleArn(WORKLOAD.kubernetes.name), durationSeconds: 3600 }],
        },
      },
      quiet,
      new MetricsRegistry(),
    );
    const error = await stranger.aws("main").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect(error).toMatchObject({ code: "AWS_REJECTED", message: expect.stringMatching(/failed: AccessDenied$/) as string });
  });

  it("keeps credentials flowing while Keycloak is unreachable, stops before expiry, and recovers by itself", async () => {
    // Real Keycloak, real STS emulator; only the broker's clock is moved ahead, and the path to
    // Keycloak can be cut (a refused connection, as when every cluster is down).
    const offset = { ms: 0 };
    const clock = {
      now: () => Date.now() + offset.ms,
      setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms),
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    let keycloakDown = false;
    const refused = () => Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    const cuttableHttp: KeycloakHttp = {
      get: (url, options) => (keycloakDown ? refused() : nodeKeycloakHttp.get(url, options)),
      postForm: (url, form, options) => (keycloakDown ? refused() : nodeKeycloakHttp.postForm(url, form, options)),
    };
    const config: Config = { ...brokerConfig("clientSecret", { refresh: { retryMinSeconds: 0.2, retryMaxSeconds: 1 } }), azure: undefined };
    const metrics = new MetricsRegistry();
    const source: BrokerCredentialSource = createCredentialSource({
      config,
      logger: quiet,
      metrics,
      clock,
      random: () => 0,
      tokenSource: createKeycloakTokenSource({
        issuer: config.issuer,
        clientId: config.clientId,
        auth: clientAuthFor(config.authentication),
        timeoutMs: 10_000,
        clock,
        http: cuttableHttp,
      }),
      aws: createStsExchanger({ region: "us-east-1", endpoint: sts.url, timeoutMs: 10_000, maxAttempts: 3 }),
    });
    const settle = () => new Promise((r) => setTimeout(r, 1_500));
    try {
      const a = await source.aws("main");

      keycloakDown = true;
      offset.ms = 41 * 60_000; // AWS refresh due (40 min); the workload token (1 h) is due too but still valid
      expect((await source.aws("main")).accessKeyId).toBe(a.accessKeyId); // served from the cache, refresh in background
      await settle();
      const b = await source.aws("main");
      expect(b.accessKeyId).not.toBe(a.accessKeyId); // refreshed with the cached workload token: Keycloak was not needed
      expect(await metrics.render()).toMatch(
        /cloud_broker_upstream_calls_total\{upstream="keycloak",outcome="KEYCLOAK_UNAVAILABLE"\} [1-9]/,
      );

      offset.ms = 57 * 60_000; // the workload token is past its stop window and B inside its own
      await expect(source.aws("main")).rejects.toMatchObject({ code: "CREDENTIALS_EXPIRING" });
      expect(source.ready()).toBe(false);

      keycloakDown = false;
      await settle();
      const c = await source.aws("main");
      expect(c.accessKeyId).not.toBe(b.accessKeyId);
      expect(source.ready()).toBe(true);
    } finally {
      source.stop();
    }
  });
});

describe("the agents' token-exchange endpoint, wired by the broker", () => {
  it("verifies real Keycloak tokens against the pinned issuer and applies the realm file's policy", async () => {
    const delegationKey = join(dir, "delegation.pem");
    writeFileSync(
      delegationKey,
      generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      { mode: 0o600 },
    );
    const port = await freePort();
    const agentsPort = await freePort();
    const pki = await ensureLocalPki();
    const config = brokerConfig("clientSecret", {
      serve: { port, stateDir: join(dir, "agents-state") },
      agents: {
        realmConfigFile: fx.configFile,
        delegationKey: { keyFile: delegationKey },
        listen: { port: agentsPort, tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } },
      },
    });
    const broker = await startBroker(config, quiet, { ...process.env, ...fx.env });
    const agentsUrl = `https://localhost:${agentsPort}`;
    try {
      // Its own HTTPS listener: never on the plain-http credential listener, which it never widens.
      expect(broker.agentsListener?.port).toBe(agentsPort);
      expect(broker.listener.host).toBe("127.0.0.1");
      expect(
        (await fetch(`http://127.0.0.1:${port}/v1/token`, { method: "POST", body: new URLSearchParams({ grant_type: "x" }) })).status,
      ).toBe(404);
      expect((await fetch(`${agentsUrl}/v1/aws/credentials/main`)).status).toBe(404);
      expect((await fetch(`${agentsUrl}/healthz`)).status).toBe(404);
      await expect(
        fetch(`http://127.0.0.1:${agentsPort}/v1/token`, { method: "POST", body: "grant_type=x" }).then((r) => r.status),
      ).rejects.toThrow();
      // Two real tokens of the realm with aud kcb-agents; the actor is a workload, not an agent of the policy.
      const agentsToken = async (clientId: string, secret: string) => {
        const res = await fetch(`${fx.issuer}/protocol/openid-connect/token`, {
          method: "POST",
          body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret, scope: "kcb-agents" }),
        });
        return ((await res.json()) as { access_token: string }).access_token;
      };
      const subject = await agentsToken(WORKLOAD.clientSecret.name, SECRET);
      expect(decodeJwt(subject).aud).toContain("kcb-agents");
      const jwt = "urn:ietf:params:oauth:token-type:jwt";
      const res = await fetch(`${agentsUrl}/v1/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: subject,
          subject_token_type: jwt,
          actor_token: await agentsToken(WORKLOAD.clientSecret.name, SECRET),
          actor_token_type: jwt,
          resource: roleArn(WORKLOAD.clientSecret.name),
        }),
      });
      // Actor and subject are the same workload: refused before the policy is even asked.
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: "invalid_request" });
      // A forged token never gets that far.
      const forged = await fetch(`${agentsUrl}/v1/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token: `${subject.slice(0, -4)}AAAA`,
          subject_token_type: jwt,
          actor_token: subject,
          actor_token_type: jwt,
          resource: roleArn("x"),
        }),
      });
      expect(forged.status).toBe(400);
      expect(await forged.json()).toMatchObject({ error: "invalid_request" });
    } finally {
      await broker.close();
    }
  });
});

describe("the cloud-broker process", () => {
  let child: ChildProcess | undefined;
  let stderr = "";
  afterAll(() => {
    if (child && child.exitCode === null) child.kill("SIGKILL");
  });

  it("serves credentials from real Keycloak + emulators, answers credential-process, and exits within 5 s of SIGTERM", async () => {
    const port = await freePort();
    const stateDir = join(dir, "state");
    const configFile = join(dir, "broker.yaml");
    const { name, app } = WORKLOAD.clientSecret;
    writeFileSync(
      configFile,
      stringify({
        issuer: fx.issuer,
        clientId: name,
        authentication: { clientSecret: { file: files.secret } },
        aws: { region: "us-east-1", stsEndpoint: sts.url, roles: [{ name: "main", arn: roleArn(name) }] },
        azure: {
          authorityHost: entra.url,
          identities: [{ name: "blob", tenantId: TENANT, clientId: app, scopes: [`${entra.resource}/.default`] }],
        },
        serve: { port, stateDir, aws: { credentialProcess: true } },
        log: { level: "debug" },
      }),
    );
    child = spawn(process.execPath, ["--import", "tsx", "broker/main.ts", "serve", "--config", configFile], {
      cwd: repoRoot,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child?.on("exit", (code) => resolve(code)));
    const base = `http://127.0.0.1:${port}`;

    let ready = 0;
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 250))) {
      ready = await fetch(`${base}/readyz`).then(
        (r) => r.status,
        () => 0,
      );
      if (ready === 200) break;
    }
    expect(ready, stderr).toBe(200);

    const authToken = readFileSync(join(stateDir, "aws-container-authorization-token"), "utf8");
    const res = await fetch(`${base}/v1/aws/credentials/main`, { headers: { authorization: authToken } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string };
    const sdk = new STSClient({
      endpoint: sts.url,
      region: "us-east-1",
      credentials: { accessKeyId: body.AccessKeyId, secretAccessKey: body.SecretAccessKey, sessionToken: body.Token },
    });
    expect((await sdk.send(new GetCallerIdentityCommand({}))).Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${name}/${name}@main`);
    expect((await fetch(`${base}/v1/aws/credentials/main`, { headers: { authorization: "wrong" } })).status).toBe(401);

    // The AWS SDK runs exactly the command line written into the AWS config file.
    const awsConfig = readFileSync(join(stateDir, "aws-config"), "utf8");
    expect(awsConfig).toContain(`credential_process = cloud-broker credential-process --url ${base} --token-file`);
    const processOut = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const cp = spawn(
        process.execPath,
        ["--import", "tsx", "broker/main.ts", "credential-process", "--target", "main", "--config", configFile],
        { cwd: repoRoot, env: process.env },
      );
      let out = "";
      cp.stdout.on("data", (d: Buffer) => (out += d.toString()));
      cp.on("exit", (code) => resolve({ code, out }));
    });
    expect(processOut.code).toBe(0);
    expect(JSON.parse(processOut.out)).toMatchObject({ Version: 1, AccessKeyId: body.AccessKeyId, SessionToken: body.Token });

    const metricsText = await (await fetch(`${base}/metrics`)).text();
    expect(metricsText).toMatch(/cloud_broker_cache_hits_total\{cloud="aws",target="main",scope=""\} [1-9]/);
    expect(metricsText).toMatch(/cloud_broker_credentials_expiry_seconds\{cloud="aws",target="main",scope=""\} \d+/);
    expect(metricsText).toContain('cloud_broker_upstream_calls_total{upstream="azure",outcome="ok"}');
    // Node's process and event-loop metrics (prom-client's defaults), as operators' dashboards expect them.
    expect(metricsText).toMatch(/^process_resident_memory_bytes [1-9]\d*$/m);
    expect(metricsText).toMatch(/^process_cpu_seconds_total \d/m);
    expect(metricsText).toMatch(/^nodejs_eventloop_lag_p99_seconds \d/m);
    expect(metricsText).toMatch(/^nodejs_heap_size_used_bytes [1-9]/m);

    const started = Date.now();
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);

    // JSON lines only, and never a token or a secret.
    const lines = stderr.split("\n").filter((l) => l.startsWith("{"));
    expect(lines.some((l) => (JSON.parse(l) as { msg: string }).msg === "cloud-broker listening")).toBe(true);
    expect(stderr).not.toContain(SECRET);
    expect(stderr).not.toContain(body.SecretAccessKey);
    expect(stderr).not.toContain(body.Token);
    expect(stderr).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\./);
  });
});
