import { spawn } from "node:child_process";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  calculateJwkThumbprint,
  createLocalJWKSet,
  decodeProtectedHeader,
  exportJWK,
  importPKCS8,
  jwtVerify,
  SignJWT,
  type JSONWebKeySet,
  type JWTPayload,
} from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { canonicalJwks } from "../../admin-scripts/diff/coherence.ts";
import { LOCK_CLIENT_ID } from "../../admin-scripts/desired/names.ts";
import { certificateMaterial } from "../../admin-scripts/desired/signing-key.ts";
import { acquireLock } from "../../admin-scripts/keycloak/lock.ts";
import { readLive } from "../../admin-scripts/keycloak/read.ts";
import { openSession } from "../../admin-scripts/keycloak/session.ts";
import { startKubeIssuer, type KubeIssuer } from "../../deploy/local/issuer/kube-issuer.ts";
import { repoRoot } from "../../deploy/local/paths.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);
const LEGACY_SECRET = randomClientSecret();
const batchKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });
const brokerKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });

let fx: RealmFixture;
let kube: KubeIssuer;

async function token(cluster: string, params: Record<string, string>): Promise<string> {
  const res = await fetch(fx.tokenEndpoint(cluster), {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", ...params }),
  });
  const body = (await res.json()) as { access_token?: string; error_description?: string };
  if (!body.access_token) throw new Error(`${cluster}: token request failed: HTTP ${res.status} ${body.error_description ?? ""}`);
  return body.access_token;
}

/** One workload token per authentication method, as the broker would request it. */
const workloadTokens: Record<string, (cluster: string) => Promise<string>> = {
  "payments-api": async (cluster) =>
    token(cluster, {
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: await kube.mintToken({ namespace: "payments", serviceAccount: "payments-api", audience: fx.issuer }),
      scope: "kcb-aws",
    }),
  "reporting-batch": async (cluster) => {
    const jwk = await exportJWK(batchKeys.publicKey);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: "RS256", kid: await calculateJwkThumbprint(jwk) })
      .setIssuer("reporting-batch")
      .setSubject("reporting-batch")
      .setAudience(fx.issuer)
      .setIssuedAt()
      .setExpirationTime("60s")
      .setJti(randomUUID())
      .sign(await importPKCS8(batchKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "RS256"));
    return token(cluster, {
      client_id: "reporting-batch",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: "kcb-azure",
    });
  },
  "legacy-etl": (cluster) => token(cluster, { client_id: "legacy-etl", client_secret: LEGACY_SECRET, scope: "kcb-aws" }),
};

async function jwks(cluster: string): Promise<JSONWebKeySet> {
  const url = domain.clusters.find((c) => c.name === cluster)!.url;
  return (await (await fetch(`${url}/realms/${fx.realm}/protocol/openid-connect/certs`)).json()) as JSONWebKeySet;
}

/** Everything realm-sync could have touched, per cluster, to prove that a refused run changed nothing. */
async function snapshot(): Promise<string> {
  const out: unknown[] = [];
  for (const c of domain.clusters) {
    const session = await openSession({ name: c.name, adminUrl: c.url, credentials: domain.admin });
    out.push(await readLive(session, fx.realm));
  }
  return JSON.stringify(out);
}

/**
 * Runs the CLI the way a user does: `npx tsx admin-scripts/main.ts <args>`; `direct` runs the same
 * entry in one node process (`node --import tsx`), so a kill hits the apply itself, not npx.
 */
function cli(
  args: string[],
  env: Record<string, string> = {},
  direct = false,
): { done: Promise<{ code: number | null; stdout: string; stderr: string }>; kill: () => void } {
  const [cmd, pre] = direct ? [process.execPath, ["--import", "tsx"]] : ["npx", ["tsx"]];
  const child = spawn(cmd, [...pre, "admin-scripts/main.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...fx.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return {
    done: new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr }))),
    kill: () => child.kill("SIGKILL"),
  };
}

beforeAll(async () => {
  kube = await startKubeIssuer({ pki: await ensureLocalPki() });
  fx = await createRealmFixture({
    domain,
    prefix: "realm-sync",
    files: {
      "legacy-etl.secret": LEGACY_SECRET,
      "reporting-batch.pub.pem": batchKeys.publicKey.export({ type: "spki", format: "pem" }).toString(),
    },
    workloads: [
      {
        name: "payments-api",
        subject: "workload:payments-api",
        authentication: { kubernetes: { issuer: kube.issuer, serviceAccount: "system:serviceaccount:payments:payments-api" } },
        aws: {
          roles: [{ arn: "arn:aws:iam::111122223333:role/payments-api" }],
          sessionTags: { team: "payments", "cost-center": "4711" },
          transitiveTagKeys: ["team"],
        },
      },
      {
        name: "reporting-batch",
        subject: "workload:reporting-batch",
        authentication: { privateKeyJwt: { publicKey: { file: "reporting-batch.pub.pem" } } },
        azure: {
          identities: [
            {
              name: "reports",
              tenantId: "8f3a1c52-6b0e-4d7a-9c21-5e4b7a9d0f13",
              clientId: "5d1f7a30-9e4c-4b62-a7d8-0c3e5f1b2a96",
              scopes: ["https://storage.azure.com/.default"],
            },
          ],
        },
      },
      {
        name: "legacy-etl",
        subject: "workload:legacy-etl",
        authentication: { clientSecret: { file: "legacy-etl.secret" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/legacy-etl", maxSessionDuration: 3600 }] },
      },
    ],
  });
});

beforeAll(() => {
  // An agent that may act for payments-api through that workload's sidecar, which authenticates with its own key.
  fx.writeConfig((doc) => {
    doc.agents = [
      {
        name: "copilot",
        match: { clientId: "copilot" },
        actFor: ["payments-api"],
        targets: [{ aws: { role: "arn:aws:iam::111122223333:role/payments-api" } }],
      },
    ];
    const key = {
      privateKeyJwt: { publicKey: fx.writeFile("broker.pub.pem", brokerKeys.publicKey.export({ type: "spki", format: "pem" }).toString()) },
    };
    for (const w of doc.workloads as Array<Record<string, unknown>>) if (w.name === "payments-api") w.agentDelegation = key;
  });
});

afterAll(async () => {
  await fx?.remove();
  await kube?.close();
});

describe("realm-sync against both real clusters", () => {
  it("applies from empty through the CLI (exit 0), and a second plan shows zero changes (exit 0)", async () => {
    const applied = await cli(["apply", fx.configFile]).done;
    expect(applied.code, applied.stderr).toBe(0);
    for (const c of CLUSTERS) expect(applied.stdout).toMatch(new RegExp(`^${c}: .*created.*; in sync`, "m"));

    const planned = await cli(["plan", fx.configFile]).done;
    expect(planned.code).toBe(0);
    for (const c of CLUSTERS) expect(planned.stdout).toContain(`${c} (`);
    expect(planned.stdout.match(/: in sync$/gm)).toHaveLength(CLUSTERS.length);
  });

  it("mints tokens on eu and us that verify against either cluster's JWKS, with identical iss, sub, aud, kid and session tags", async () => {
    const keys = Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c, await jwks(c)] as const)));
    expect(new Set(Object.values(keys).map(canonicalJwks)).size).toBe(1);
    const expectedKid = certificateMaterial(fx.keys[0]!.certificatePem).kid;
    expect(keys[CLUSTERS[0]!]!.keys.map((k) => k.kid)).toEqual([expectedKid]);

    const expected: Record<string, Partial<JWTPayload>> = {
      "payments-api": {
        sub: "workload:payments-api",
        aud: "sts.amazonaws.com",
        "https://aws.amazon.com/tags": { principal_tags: { "cost-center": ["4711"], team: ["payments"] }, transitive_tag_keys: ["team"] },
      },
      "reporting-batch": { sub: "workload:reporting-batch", aud: "api://AzureADTokenExchange" },
      "legacy-etl": { sub: "workload:legacy-etl", aud: "sts.amazonaws.com" },
    };
    for (const [workload, mint] of Object.entries(workloadTokens)) {
      const seen = [];
      for (const cluster of CLUSTERS) {
        const jwt = await mint(cluster);
        const header = decodeProtectedHeader(jwt);
        expect(header).toMatchObject({ alg: "RS256", kid: expectedKid });
        for (const other of CLUSTERS) {
          const { payload } = await jwtVerify(jwt, createLocalJWKSet(keys[other]!), { issuer: fx.issuer, algorithms: ["RS256"] });
          expect(payload).toMatchObject(expected[workload]!);
          expect(Number.isInteger(payload.exp) && Number.isInteger(payload.iat)).toBe(true);
          if (!expected[workload]!["https://aws.amazon.com/tags"]) expect(payload).not.toHaveProperty(["https://aws.amazon.com/tags"]);
        }
        const p = JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as Record<string, unknown>;
        seen.push(JSON.stringify([p.iss, p.sub, p.aud, header.kid, p["https://aws.amazon.com/tags"]]));
      }
      expect(new Set(seen).size, `${workload}: eu and us tokens differ`).toBe(1);
    }
  });

  it("gives the broker a delegation client per (agent, workload): the workload's sub and the chain as AWS source identity", async () => {
    const clientId = "kcb-delegation.copilot.payments-api";
    const key = await importPKCS8(brokerKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(), "RS256");
    const seen = new Set<string>();
    for (const cluster of CLUSTERS) {
      const assertion = await new SignJWT({})
        .setProtectedHeader({ alg: "RS256" })
        .setIssuer(clientId)
        .setSubject(clientId)
        .setAudience(fx.issuer)
        .setIssuedAt()
        .setExpirationTime("60s")
        .setJti(randomUUID())
        .sign(key);
      const jwt = await token(cluster, {
        client_id: clientId,
        client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        client_assertion: assertion,
        scope: "kcb-aws",
      });
      const { payload } = await jwtVerify(jwt, createLocalJWKSet(await jwks(cluster)), {
        issuer: fx.issuer,
        audience: "sts.amazonaws.com",
      });
      expect(payload).toMatchObject({
        sub: "workload:payments-api",
        aud: "sts.amazonaws.com",
        "https://aws.amazon.com/source_identity": "copilot@payments-api",
      });
      seen.add(JSON.stringify([payload.sub, payload["https://aws.amazon.com/source_identity"], payload["https://aws.amazon.com/tags"]]));
      // The workload's own subject token for agents: aud kcb-agents.
      const subjectToken = await token(cluster, { client_id: "legacy-etl", client_secret: LEGACY_SECRET, scope: "kcb-agents" });
      expect(JSON.parse(Buffer.from(subjectToken.split(".")[1]!, "base64url").toString())).toMatchObject({
        sub: "workload:legacy-etl",
        aud: "kcb-agents",
      });
    }
    expect(seen.size).toBe(1);
  });

  it("check: in sync and coherent (exit 0)", async () => {
    const result = await fx.run("check");
    expect(result.stderr).not.toContain("realm-sync:");
    expect(result.stdout).toContain("in sync and coherent");
    expect(result.exitCode).toBe(0);
  });

  it("the signing key reaches both clusters from their own disks: realm-sync's side holds only the certificate, and every JWKS carries exactly it", async () => {
    // Everything realm-sync is given (the config dir) is free of private keys; the keystores exist only in each server's keystore dir.
    for (const name of readdirSync(fx.dir, { recursive: true, encoding: "utf8" })) {
      const path = join(fx.dir, name);
      if (!statSync(path).isFile()) continue;
      expect(name).not.toMatch(/\.p12$/);
      expect(readFileSync(path, "utf8"), name).not.toMatch(/PRIVATE KEY/);
    }
    const committed = certificateMaterial(fx.keys[0]!.certificatePem);
    for (const c of domain.clusters) {
      expect(existsSync(join(c.keystoresDir, fx.realm, fx.keys[0]!.entry.keystore.file)), c.name).toBe(true);
      const [key, ...others] = (await jwks(c.name)).keys;
      expect(others).toEqual([]);
      expect(key).toMatchObject({ kid: committed.kid, n: committed.publicJwk.n, e: committed.publicJwk.e, x5c: [committed.certificate] });
      // Keycloak holds a vault reference, not the password.
      const admin = await fx.admin(c.name);
      const [component] = (await admin.components.find({ type: "org.keycloak.keys.KeyProvider" })).filter(
        (k) => k.providerId === "java-keystore",
      );
      expect(component?.config?.keystorePassword).toEqual([`\${vault.${fx.keys[0]!.entry.keystore.passwordVault}}`]);
    }
  });

  it("apply with the view identity is refused (exit 1, CLUSTER_FORBIDDEN) and changes nothing", async () => {
    const before = await snapshot();
    const original = structuredClone(fx.document);
    fx.writeConfig((doc) => {
      for (const c of doc.clusters as Array<{ auth: { apply: unknown; view: unknown } }>) c.auth.apply = c.auth.view;
      doc.tokens = { accessTokenLifespan: 777 };
    });
    try {
      const refused = await fx.run("apply");
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/cluster (eu|us): .*HTTP 403: the identity realm-sync signed in with lacks the role/);
      expect(await snapshot()).toBe(before);
    } finally {
      fx.writeConfig((doc) => Object.assign(doc, structuredClone(original)));
    }
  });

  it("reports a change made by hand in the admin API (check exit 3) and repairs it (apply)", async () => {
    const admin = await fx.admin("eu");
    const [client] = await admin.clients.find({ clientId: "legacy-etl" });
    const mapper = client!.protocolMappers!.find((m) => m.name === "kcb-sub")!;
    // The client PUT first: a client representation carries its mappers, and Keycloak applies them too.
    await admin.clients.update({ id: client!.id! }, { ...client, directAccessGrantsEnabled: true });
    await admin.clients.updateProtocolMapper(
      { id: client!.id!, mapperId: mapper.id! },
      { ...mapper, config: { ...mapper.config, "claim.value": "hand-edited" } },
    );

    const checked = await fx.run("check");
    expect(checked.exitCode).toBe(3);
    expect(checked.stdout).toContain("~ client legacy-etl");
    expect(checked.stdout).toContain('config["claim.value"]: "hand-edited" → "workload:legacy-etl"');
    expect(checked.stdout).toContain("directAccessGrantsEnabled: true → false");
    expect(checked.stdout).toMatch(/incoherent: eu: client legacy-etl token \(scope kcb-aws\): sub is "hand-edited"/);
    expect(checked.stdout).toMatch(/client legacy-etl token claims \(scope kcb-aws\) differs between clusters/);

    const repaired = await fx.run("apply", { json: true });
    expect(repaired.exitCode).toBe(0);
    const eu = (JSON.parse(repaired.stdout) as { clusters: Array<{ cluster: string; writes: number }> }).clusters;
    expect(eu.map((c) => [c.cluster, c.writes])).toEqual([
      ["eu", 2],
      ["us", 0],
    ]);
    expect((await fx.run("check")).exitCode).toBe(0);
    const jwt = await workloadTokens["legacy-etl"]!("eu");
    expect(JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString())).toMatchObject({ sub: "workload:legacy-etl" });
  });

  it("leaves a hand-made client alone, prunes a workload removed from the config, and writes only the changed workload", async () => {
    for (const c of CLUSTERS)
      await (await fx.admin(c)).clients.create({ clientId: "hand-made", publicClient: true, attributes: { note: "made in the console" } });
    fx.writeConfig((doc) => {
      const workloads = doc.workloads as Array<Record<string, unknown>>;
      doc.workloads = workloads.filter((w) => w.name !== "legacy-etl");
      const payments = (doc.workloads as Array<{ name: string; aws: { sessionTags: Record<string, string> } }>).find(
        (w) => w.name === "payments-api",
      )!;
      payments.aws.sessionTags.team = "payments-core";
    });
    const planned = await fx.run("plan", { json: true });
    expect(planned.exitCode).toBe(3);
    const plans = (
      JSON.parse(planned.stdout) as { clusters: Array<{ cluster: string; changes: Array<{ op: string; kind: string; name: string }> }> }
    ).clusters;
    for (const p of plans) {
      expect(p.changes.map((c) => `${c.op} ${c.kind} ${c.name}`)).toEqual([
        "update client payments-api",
        "update client kcb-delegation.copilot.payments-api",
        "delete client legacy-etl",
      ]);
    }

    const applied = await fx.run("apply", { json: true });
    expect(applied.exitCode).toBe(0);
    // The tags mapper of the workload and of its delegation client, and one DELETE: nothing else.
    for (const c of (JSON.parse(applied.stdout) as { clusters: Array<{ writes: number }> }).clusters) expect(c.writes).toBe(3);

    for (const c of CLUSTERS) {
      const admin = await fx.admin(c);
      expect(await admin.clients.find({ clientId: "legacy-etl" })).toEqual([]);
      const [hand] = await admin.clients.find({ clientId: "hand-made" });
      expect(hand?.attributes).toMatchObject({ note: "made in the console" });
      expect(hand?.publicClient).toBe(true);
    }
    expect((await fx.run("plan")).exitCode).toBe(0);
  });

  it("rotates keys: a new active key signs and both are published on both clusters; dropping the old removes it", async () => {
    const oldKey = fx.keys[0]!;
    const newKey = fx.newKey(`${fx.realm}-key-2`, "active");
    const [oldKid, newKid] = [oldKey, newKey].map((k) => certificateMaterial(k.certificatePem).kid);
    fx.writeConfig((doc) => {
      doc.signingKeys = [
        { ...oldKey.entry, status: "passive" },
        { ...newKey.entry, status: "active" },
      ];
    });
    await fx.apply();
    for (const c of CLUSTERS) {
      expect((await jwks(c)).keys.map((k) => k.kid).sort()).toEqual([oldKid, newKid].sort());
      expect(decodeProtectedHeader(await workloadTokens["payments-api"]!(c)).kid).toBe(newKid);
    }
    expect((await fx.run("check")).exitCode).toBe(0);

    fx.writeConfig((doc) => {
      doc.signingKeys = [{ ...newKey.entry, status: "active" }];
    });
    await fx.apply();
    for (const c of CLUSTERS) expect((await jwks(c)).keys.map((k) => k.kid)).toEqual([newKid]);
    expect((await fx.run("check")).exitCode).toBe(0);
  });

  it("refuses a second apply while one holds the cluster's lock, and takes over a lock whose lease ran out", async () => {
    const eu = domain.clusters.find((c) => c.name === "eu")!;
    const session = await openSession({ name: "eu", adminUrl: eu.url, credentials: domain.admin });
    const held = await acquireLock(session, fx.realm, { leaseMs: 60_000, owner: "ci-job-42" });
    const before = await snapshot();
    const refused = await fx.run("apply");
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/cluster eu: realm \S+ is locked by another apply \(ci-job-42\) until /);
    expect(await snapshot()).toBe(before);
    await held.release();

    // A killed apply's lock: an expired lease left behind.
    const admin = await fx.admin("eu");
    await admin.clients.create({
      clientId: LOCK_CLIENT_ID,
      enabled: false,
      bearerOnly: true,
      attributes: { "kcb.lock.owner": "killed", "kcb.lock.expires": new Date(Date.now() - 1000).toISOString() },
    });
    expect((await fx.run("apply")).exitCode).toBe(0);
    expect(await admin.clients.find({ clientId: LOCK_CLIENT_ID })).toEqual([]);
  });

  it("converges on the next run after an apply killed midway", async () => {
    fx.writeConfig((doc) => {
      const extra = Array.from({ length: 40 }, (_, i) => ({
        name: `batch-${i}`,
        subject: `workload:batch-${i}`,
        authentication: { privateKeyJwt: { jwksUrl: `https://jobs.example/${i}/jwks` } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/batch" }] },
      }));
      doc.workloads = [...(doc.workloads as unknown[]), ...extra];
    });
    const run = cli(["apply", fx.configFile], { KCB_REALM_SYNC_LOCK_LEASE_SECONDS: "2", KCB_REALM_SYNC_CONCURRENCY: "1" }, true);
    const admin = await fx.admin("us");
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await admin.clients.find({ clientId: "batch-0" })).length === 0) await sleep(100);
    run.kill();
    await run.done;
    const partial = (await admin.clients.find({ max: 1000 })).filter((c) => c.clientId?.startsWith("batch-")).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(40);

    await sleep(2500); // the killed apply's lease
    expect((await fx.run("apply")).exitCode).toBe(0);
    expect((await fx.run("plan")).exitCode).toBe(0);
  });

  it("refuses to touch any cluster when one cluster is unreachable (exit 1, named), leaving the others unchanged", async () => {
    fx.writeConfig((doc) => {
      (doc.tokens as Record<string, number>).accessTokenLifespan = 900;
      const clusters = doc.clusters as Array<{ auth: unknown }>;
      clusters.push({ name: "ap", adminUrl: "https://127.0.0.1:9", auth: structuredClone(clusters[0]!.auth) } as { auth: unknown });
    });
    const before = await snapshot();
    const result = await fx.run("apply");
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/cluster ap: signing in: unreachable/);
    expect(await snapshot()).toBe(before);
    fx.writeConfig((doc) => {
      (doc.clusters as Array<{ name: string }>).splice(-1, 1);
      (doc.tokens as Record<string, number>).accessTokenLifespan = 300;
    });
  });
});
