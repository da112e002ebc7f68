/**
 * The live broker's attack surface: a `cloud-broker serve` process with every credential endpoint
 * on (AWS container, App Service, IMDS) and the agents' `POST /v1/token`, in a realm applied by
 * realm-sync (workload `orders`, agent `copilot` acting for it, delegation clients), the strict
 * STS and Entra emulators behind it. Attacked over its socket:
 * - every credential endpoint without, or with a wrong, secret (and IMDS without its header, via a
 *   proxy, or with a foreign Host);
 * - the classic JWT attacks built with real keys (the realm's own signing key, so only the attack is
 *   what gets refused), with `jku`/`x5u` pointing at a recorder that must never be fetched;
 * - oversized tokens and bodies, lying lengths, duplicated parameters;
 * - property-based fuzzing of all of it (test/support/faults/fuzz-requests.ts).
 * Never a 5xx, never a crash, never a credential for an invalid request.
 */
import { createPrivateKey } from "node:crypto";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { certificateMaterial } from "../../admin-scripts/desired/signing-key.ts";
import { AWS_CREDENTIALS_TOKEN_TYPE } from "../../broker/agents/protocol.ts";
import { recordSecret } from "../support/log-scan.ts";
import { freePort } from "../../deploy/local/net.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { fuzzBroker, JWT_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT, type FuzzTarget } from "../support/faults/fuzz-requests.ts";
import { carriesCredentials, send, type RawResponse } from "../support/faults/http.ts";
import { attackerKey, JWT_ATTACKS, refreshClaims, signRaw, type AttackKeys } from "../support/faults/jwt-attacks.ts";
import { spawnBroker, waitFor, waitReady, type Child } from "../support/faults/processes.ts";
import { APP, ROLE_ARN, startBrokerWorld, type BrokerWorld } from "../support/faults/world.ts";

const domain = inject("trustDomain");

let world: BrokerWorld;
let broker: Child;
/** The credential listener (plain http, loopback). */
let base: string;
/** The agents' own HTTPS listener (`POST /v1/token`). */
let tokenBase: string;
let secrets: { aws: string; header: string };
let keys: AttackKeys;
let recorder: { server: Server; url: string; hits: string[] };
let issuedBefore: { sessions: number; entra: number };

beforeAll(async () => {
  world = await startBrokerWorld({ domain, prefix: "security", agents: true });
  const attacker = await attackerKey();
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [attacker.jwk] }));
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  recorder = { server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, hits };

  const port = await freePort();
  const agentsPort = await freePort();
  base = `http://127.0.0.1:${port}`;
  tokenBase = `https://localhost:${agentsPort}`;
  const stateDir = join(world.dir, "state");
  const pki = await ensureLocalPki();
  const config = world.configDoc({
    serve: { port, stateDir, azure: { imds: true } },
    agents: {
      realmConfigFile: world.fx.configFile,
      delegationKey: { keyFile: world.delegationKey!.file },
      rateLimit: { burst: 200, perSecond: 50 },
      listen: { port: agentsPort, tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } },
    },
    log: { level: "debug" },
  });
  broker = spawnBroker(["serve", "--config", world.writeConfig("broker.yaml", config)]);
  await waitReady(base, broker);
  secrets = {
    aws: readFileSync(join(stateDir, "aws-container-authorization-token"), "utf8"),
    header: readFileSync(join(stateDir, "azure-identity-header"), "utf8"),
  };
  recordSecret("broker-container-token", secrets.aws);
  recordSecret("broker-identity-header", secrets.header);
  const realmKey = world.fx.keys[0]!;
  keys = { realm: { privateKey: createPrivateKey(realmKey.pem), kid: certificateMaterial(realmKey.certificatePem).kid }, attacker };
});

afterAll(async () => {
  broker?.kill("SIGTERM");
  await broker?.exited;
  recorder?.server.close();
  await world?.close();
});

const form = (params: Array<[string, string]>) => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join("&");
const exchange = (params: Array<[string, string]>, headers: Array<[string, string]> = []) =>
  send(tokenBase, {
    method: "POST",
    path: "/v1/token",
    headers: [["content-type", "application/x-www-form-urlencoded"], ...headers],
    body: form(params),
  });

const subjectToken = () => world.clientToken("orders", "kcb-agents");
const actorToken = () => world.clientToken("copilot", "kcb-agents");
/** A valid token forged with the realm's own key from a real token's claims: what an attacker holding nothing could never make. */
const resigned = (token: string) =>
  signRaw({ alg: "RS256", typ: "JWT", kid: keys.realm.kid }, refreshClaims(decodeJwt(token)), keys.realm.privateKey);

function request(subject: string, actor: string, extra: Array<[string, string]> = []): Array<[string, string]> {
  return [
    ["grant_type", TOKEN_EXCHANGE_GRANT],
    ["subject_token", subject],
    ["subject_token_type", JWT_TOKEN_TYPE],
    ["actor_token", actor],
    ["actor_token_type", JWT_TOKEN_TYPE],
    ["resource", ROLE_ARN],
    ...extra,
  ];
}

/** The audit event the broker wrote (JSON lines on its stdout) for a response; it may reach the pipe a moment later. */
function auditFor(res: RawResponse): Promise<{ outcome: string; reason?: string }> {
  const id = res.headers["x-request-id"];
  expect(id).toBeTruthy();
  return waitFor(
    `the audit event of request ${String(id)}`,
    () =>
      broker
        .stdout()
        .split("\n")
        .filter((l) => l.startsWith("{") && l.endsWith("}"))
        .map((l) => JSON.parse(l) as { requestId?: string; outcome: string; reason?: string })
        .find((e) => e.requestId === id),
    5_000,
    20,
  );
}

function expectRefused(res: RawResponse, status = 400): void {
  expect(res.status, res.body).toBe(status);
  expect(carriesCredentials(res.body)).toBe(false);
}

describe("the agents' endpoint works at all (controls)", () => {
  it("real Keycloak tokens, and tokens re-signed with the realm's own key, get AWS credentials", async () => {
    for (const [subject, actor] of [
      [await subjectToken(), await actorToken()],
      [resigned(await subjectToken()), resigned(await actorToken())],
    ] as const) {
      const res = await exchange(request(subject, actor));
      expect(res.status, res.body).toBe(200);
      expect(JSON.parse(res.body)).toMatchObject({ issued_token_type: AWS_CREDENTIALS_TOKEN_TYPE, token_type: "N_A" });
      expect(await auditFor(res)).toMatchObject({ outcome: "allowed" });
    }
    issuedBefore = { sessions: world.sts.sessions().length, entra: world.entra.issued.length };
  });
});

describe("JWT attacks against the live endpoint, with real keys", () => {
  it.each(JWT_ATTACKS.map((a) => [a.name, a] as const))(
    "%s: refused as the subject token and as the actor token",
    async (_name, attack) => {
      const ctx = { recorderUrl: recorder.url, innerToken: await subjectToken() };
      const asSubject = await exchange(request(await attack.build(decodeJwt(ctx.innerToken), keys, ctx), resigned(await actorToken())));
      expectRefused(asSubject);
      expect(JSON.parse(asSubject.body)).toMatchObject({ error: "invalid_request" });
      expect((await auditFor(asSubject)).reason).toMatch(/^(SUBJECT_TOKEN_INVALID|TOKEN_TOO_LARGE)$/);

      const actor = await actorToken();
      const asActor = await exchange(
        request(resigned(ctx.innerToken), await attack.build(decodeJwt(actor), keys, { ...ctx, innerToken: actor })),
      );
      expectRefused(asActor);
      expect((await auditFor(asActor)).reason).toMatch(/^(ACTOR_TOKEN_INVALID|TOKEN_TOO_LARGE)$/);
    },
  );

  it("nothing in a token made the broker fetch anything (jku / x5u recorder untouched), and nothing was issued", () => {
    expect(recorder.hits).toEqual([]);
    expect(world.sts.sessions().length).toBe(issuedBefore.sessions);
    expect(world.entra.issued.length).toBe(issuedBefore.entra);
  });
});

describe("oversized input and duplicated parameters", () => {
  it("refuses bodies over 32 KiB (read or declared) with 413, and stays up", async () => {
    const valid = request(resigned(await subjectToken()), resigned(await actorToken()));
    expectRefused(await exchange([...valid, ["padding", "x".repeat(40 * 1024)]]), 413);
    const huge = await send(tokenBase, {
      method: "POST",
      path: "/v1/token",
      headers: [["content-type", "application/x-www-form-urlencoded"]],
      body: Buffer.alloc(5 * 1024 * 1024, 0x61),
    });
    if (huge.status !== 0) expectRefused(huge, 413); // or the broker cut the upload short
    expectRefused(
      await send(tokenBase, {
        method: "POST",
        path: "/v1/token",
        headers: [
          ["content-type", "application/x-www-form-urlencoded"],
          ["content-length", "99999999999"],
        ],
        body: "grant_type=x",
      }),
      413,
    );
    expectRefused(await exchange(request(`${resigned(await subjectToken())}${"A".repeat(9000)}`, resigned(await actorToken()))));
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(broker.child.exitCode).toBeNull();
  });

  it("refuses every repeated parameter, even with the same valid value", async () => {
    for (const name of ["grant_type", "subject_token", "subject_token_type", "actor_token", "actor_token_type", "resource"]) {
      const params = request(resigned(await subjectToken()), resigned(await actorToken()));
      const res = await exchange([...params, params.find(([n]) => n === name)!]);
      expectRefused(res);
      expect((await auditFor(res)).reason).toBe("REQUEST_MALFORMED");
    }
    // A forged subject hidden behind a valid one, and the other way round.
    const valid = resigned(await subjectToken());
    const forged = signRaw({ alg: "none" }, refreshClaims(decodeJwt(valid)), undefined);
    for (const pair of [
      [valid, forged],
      [forged, valid],
    ]) {
      const params = request(pair[0]!, resigned(await actorToken()));
      expectRefused(await exchange([...params, ["subject_token", pair[1]!]]));
    }
    // Parameter names are case-sensitive: `Subject_Token` is an unknown parameter, so subject_token is missing.
    const renamed = request(resigned(await subjectToken()), resigned(await actorToken())).map(
      ([n, v]) => [n === "subject_token" ? "Subject_Token" : n, v] as [string, string],
    );
    expectRefused(await exchange(renamed));
    expect(world.sts.sessions().length).toBe(issuedBefore.sessions);
  });
});

describe("every credential endpoint without, or with a wrong, secret", () => {
  const awsPath = "/v1/aws/credentials/main";
  const azurePath = () => `/v1/azure/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(world.entra.resource)}`;
  const imdsPath = () => `/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(world.entra.resource)}`;
  const flip = (s: string) => `${s.slice(0, 10)}${s[10] === "A" ? "B" : "A"}${s.slice(11)}`;

  it("controls: the right secret gets credentials on each", async () => {
    expect((await send(base, { method: "GET", path: awsPath, headers: [["authorization", secrets.aws]] })).status).toBe(200);
    expect((await send(base, { method: "GET", path: azurePath(), headers: [["x-identity-header", secrets.header]] })).status).toBe(200);
    const imds = await send(base, { method: "GET", path: imdsPath(), headers: [["metadata", "true"]] });
    expect(imds.status).toBe(200);
    expect(JSON.parse(imds.body)).toMatchObject({ client_id: APP, token_type: "Bearer" });
  });

  it("AWS container endpoint: 401 for every wrong Authorization, the same answer for a target that does not exist", async () => {
    const wrong: Array<Array<[string, string]>> = [
      [],
      [["authorization", ""]],
      [["authorization", "wrong"]],
      [["authorization", flip(secrets.aws)]],
      [["authorization", secrets.aws.slice(0, -1)]],
      [["authorization", `${secrets.aws}x`]],
      [["authorization", `Bearer ${secrets.aws}`]],
      [["authorization", secrets.header]],
      [["authorization", secrets.aws.toUpperCase()]],
      [["x-amz-security-token", secrets.aws]],
      [
        ["authorization", "wrong"],
        ["authorization", "wronger"],
      ],
    ];
    const answers = new Set<string>();
    for (const headers of wrong) {
      for (const target of ["main", "does-not-exist"]) {
        const res = await send(base, { method: "GET", path: `/v1/aws/credentials/${target}`, headers });
        expectRefused(res, 401);
        answers.add(res.body);
      }
    }
    expect(answers.size).toBe(1); // nothing tells a caller without the secret which targets exist
  });

  it("App Service endpoint: 401 for every wrong X-IDENTITY-HEADER, or the right secret under another header", async () => {
    const wrong: Array<Array<[string, string]>> = [
      [],
      [["x-identity-header", ""]],
      [["x-identity-header", "wrong"]],
      [["x-identity-header", flip(secrets.header)]],
      [["x-identity-header", secrets.header.slice(0, -1)]],
      [["x-identity-header", secrets.aws]],
      [["authorization", secrets.header]],
      [["secret", secrets.header]],
      [
        ["x-identity-header", "wrong"],
        ["x-identity-header", "wronger"],
      ],
    ];
    for (const headers of wrong) expectRefused(await send(base, { method: "GET", path: azurePath(), headers }), 401);
  });

  it("IMDS endpoint: refused without Metadata: true, through a proxy, or for a foreign Host", async () => {
    const refused: Array<Array<[string, string]>> = [
      [],
      [["metadata", "false"]],
      [["metadata", "yes"]],
      [
        ["metadata", "true"],
        ["x-forwarded-for", "10.1.2.3"],
      ],
      [
        ["metadata", "true"],
        ["host", "evil.example"],
      ],
      [
        ["metadata", "true"],
        ["host", "127.0.0.1.evil.example"],
      ],
      [
        ["metadata", "true"],
        ["host", "10.0.0.1:8999"],
      ],
    ];
    for (const headers of refused) expectRefused(await send(base, { method: "GET", path: imdsPath(), headers }));
  });

  it("/v1/token takes nothing from an Authorization header", async () => {
    expectRefused(
      await send(tokenBase, {
        method: "POST",
        path: "/v1/token",
        headers: [
          ["authorization", `Bearer ${await subjectToken()}`],
          ["content-type", "application/x-www-form-urlencoded"],
        ],
        body: "",
      }),
    );
  });

  it("the unauthenticated operations endpoints hold no secret", async () => {
    const creds = JSON.parse((await send(base, { method: "GET", path: awsPath, headers: [["authorization", secrets.aws]] })).body) as {
      SecretAccessKey: string;
      Token: string;
    };
    for (const path of ["/healthz", "/readyz", "/metrics"]) {
      const res = await send(base, { method: "GET", path });
      expect(res.status).toBe(200);
      for (const secret of [secrets.aws, secrets.header, creds.SecretAccessKey, creds.Token]) expect(res.body).not.toContain(secret);
      expect(carriesCredentials(res.body)).toBe(false);
    }
  });
});

describe("property-based fuzzing of every credential endpoint and POST /v1/token", () => {
  it("no 5xx, no crash, never a credential for an invalid request", async () => {
    const target: FuzzTarget = {
      awsContainerToken: secrets.aws,
      identityHeader: secrets.header,
      awsTargets: ["main"],
      azureResources: [world.entra.resource],
      azureClientIds: [APP],
      subjectToken: await subjectToken(),
      actorToken: await actorToken(),
      roleArn: ROLE_ARN,
      keys,
      recorderUrl: recorder.url,
    };
    const sessions = world.sts.sessions().length;
    const stats = await fuzzBroker({ baseUrl: base, tokenUrl: tokenBase, target, numRuns: 1000 });
    console.warn(`fuzz: ${stats.runs} requests, statuses ${JSON.stringify(stats.statuses)}`);
    expect(stats.runs).toBeGreaterThanOrEqual(990);
    // Not vacuous: the cases reached the checks of every layer (auth, routing, form, tokens, size).
    for (const status of [400, 401, 404]) expect(stats.statuses[status] ?? 0).toBeGreaterThan(0);
    expect(world.sts.sessions().length).toBe(sessions);
    expect(recorder.hits).toEqual([]);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(broker.child.exitCode).toBeNull();
  });
});
