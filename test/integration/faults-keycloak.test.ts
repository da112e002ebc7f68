/**
 * Keycloak lost entirely while a `cloud-broker serve` process runs: both clusters of the shared
 * trust domain are stopped (the issuer front then has nowhere to go) and started again on the same
 * ports and data. The workload tokens live 60 s, so the broker must refresh them during the outage.
 * It keeps serving the cached cloud credentials (never past their stop time), retries Keycloak at
 * a bounded, jittered pace, and recovers by itself when Keycloak is back: no restart, nothing lost.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { controlCluster } from "../../deploy/local/keycloak/control.ts";
import { recordSecret } from "../support/log-scan.ts";
import { freePort } from "../../deploy/local/net.ts";
import { spawnBroker, waitFor, waitReady, type Child } from "../support/faults/processes.ts";
import { ROLE_ARN, startBrokerWorld, type BrokerWorld } from "../support/faults/world.ts";

const domain = inject("trustDomain");
const control = inject("trustDomainControl");
const CLUSTERS = domain.clusters.map((c) => c.name);

let world: BrokerWorld;
let broker: Child | undefined;
let base: string;
let stateDir: string;
const restarts: Array<Promise<unknown>> = [];
let stopped = false;

beforeAll(async () => {
  world = await startBrokerWorld({ domain, prefix: "faults-kc", accessTokenLifespan: 60 });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stateDir = join(world.dir, "state");
  const doc = world.configDoc({
    aws: { region: "us-east-1", stsEndpoint: world.sts.url, roles: [{ name: "main", arn: ROLE_ARN, durationSeconds: 900 }] },
    // Token refresh at ~30 s of a 60 s token; retries of a failed refresh from 0.5 s doubling to 2 s.
    refresh: { aheadSeconds: 60, jitterSeconds: 5, stopServingSeconds: 10, retryMinSeconds: 0.5, retryMaxSeconds: 2 },
    serve: { port, stateDir, aws: { webIdentity: true } },
    log: { level: "debug" },
  });
  broker = spawnBroker(["serve", "--config", world.writeConfig("broker.yaml", doc)]);
  await waitReady(base, broker);
  recordSecret("broker-container-token", readFileSync(join(stateDir, "aws-container-authorization-token"), "utf8"));
  recordSecret("broker-identity-header", readFileSync(join(stateDir, "azure-identity-header"), "utf8"));
});

afterAll(async () => {
  // Whatever happened, the shared trust domain must be whole again for the next test files.
  if (stopped && restarts.length === 0) restarts.push(Promise.all(CLUSTERS.map((c) => controlCluster(control, c, "restart"))));
  await Promise.allSettled(restarts);
  broker?.kill("SIGTERM");
  await broker?.exited;
  await world?.close();
});

interface Served {
  at: number;
  cloud: "aws" | "azure";
  status: number;
  id?: string;
  expiresAt?: number;
}

async function fetchCredentials(log: Served[]): Promise<void> {
  const at = Date.now();
  const aws = await fetch(`${base}/v1/aws/credentials/main`, {
    headers: { authorization: readFileSync(join(stateDir, "aws-container-authorization-token"), "utf8") },
  });
  const a = aws.status === 200 ? ((await aws.json()) as { AccessKeyId: string; Expiration: string }) : undefined;
  log.push({ at, cloud: "aws", status: aws.status, ...(a && { id: a.AccessKeyId, expiresAt: Date.parse(a.Expiration) }) });
  const azure = await fetch(`${base}/v1/azure/msi/token?api-version=2019-08-01&resource=${encodeURIComponent(world.entra.resource)}`, {
    headers: { "x-identity-header": readFileSync(join(stateDir, "azure-identity-header"), "utf8") },
  });
  const z = azure.status === 200 ? ((await azure.json()) as { access_token: string; expires_on: string }) : undefined;
  log.push({
    at,
    cloud: "azure",
    status: azure.status,
    ...(z && { id: z.access_token.slice(-16), expiresAt: Number(z.expires_on) * 1000 }),
  });
}

async function keycloakCalls(): Promise<{ ok: number; unavailable: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const count = (outcome: string) =>
    Number(new RegExp(`cloud_broker_upstream_calls_total\\{upstream="keycloak",outcome="${outcome}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
  return { ok: count("ok"), unavailable: count("KEYCLOAK_UNAVAILABLE") };
}

/** The broker's own log lines about failed Keycloak refreshes: when, for which audience. */
function failedKeycloakRefreshes(stderr: string): Array<{ at: number; audience: string }> {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { time: string; msg: string; cloud?: string; audience?: string })
    .filter((l) => l.msg === "credentials refresh failed" && l.cloud === "keycloak")
    .map((l) => ({ at: Date.parse(l.time), audience: l.audience ?? "" }));
}

describe("Keycloak stopped and restarted under a running broker", () => {
  it("keeps serving cached credentials, retries at a bounded jittered pace, and recovers by itself", async () => {
    const served: Served[] = [];
    await fetchCredentials(served);
    const [firstAws, firstAzure] = served;
    expect(firstAws?.status).toBe(200);
    expect(firstAzure?.status).toBe(200);
    const before = await keycloakCalls();
    const pid = broker!.pid;

    // Outage: every cluster crashes (SIGKILL, no shutdown); the issuer front answers 503 no_cluster_available.
    const stoppedAt = Date.now();
    stopped = true;
    await Promise.all(CLUSTERS.map((c) => controlCluster(control, c, "kill")));
    expect((await fetch(`${world.fx.issuer}/.well-known/openid-configuration`)).status).toBe(503);

    // While down: the cached credentials keep being served, and the broker's token refresh fails (~30 s into the token's life).
    await waitFor(
      "a failed Keycloak refresh",
      async () => {
        await fetchCredentials(served);
        return (await keycloakCalls()).unavailable >= 2 ? true : undefined;
      },
      90_000,
      500,
    );
    const downFor = (Date.now() - stoppedAt) / 1000;

    // Back: both clusters at once (restart keeps ports and data). Serving continues meanwhile.
    const restartedAt = Date.now();
    let restarted = false;
    const restart = Promise.all(CLUSTERS.map((c) => controlCluster(control, c, "restart"))).finally(() => (restarted = true));
    restarts.push(restart);
    while (!restarted) {
      await fetchCredentials(served);
      await new Promise((r) => setTimeout(r, 1_000));
    }
    await restart;

    // Recovery without a restart of the broker: a Keycloak refresh succeeds, the token file gets a
    // token issued after Keycloak came back, and readiness is green.
    const tokenFile = join(stateDir, "aws-web-identity-token");
    await waitFor(
      "the broker's recovery",
      async () => {
        const calls = await keycloakCalls();
        const iat = (decodeJwt(readFileSync(tokenFile, "utf8")).iat ?? 0) * 1000;
        const ready = (await fetch(`${base}/readyz`)).status;
        return calls.ok > before.ok && iat >= restartedAt - 1_000 && ready === 200 ? true : undefined;
      },
      60_000,
      500,
    );
    await fetchCredentials(served);
    expect(broker!.pid).toBe(pid);
    expect(broker!.child.exitCode).toBeNull();

    // Nothing lost, nothing stale: every request during the outage got credentials, each with its
    // expiry more than the stop window (10 s) ahead of the moment it was served.
    expect(served.filter((s) => s.status !== 200)).toEqual([]);
    for (const s of served) expect(s.expiresAt! - s.at).toBeGreaterThan(10_000);
    expect(new Set(served.filter((s) => s.cloud === "aws").map((s) => s.id))).toEqual(new Set([firstAws!.id]));

    // Bounded, jittered retries: per audience at most one attempt per ~second once the backoff reached its 2 s cap
    // (delays are half fixed, half random: 1–2 s), and the gaps between attempts differ.
    const failures = failedKeycloakRefreshes(broker!.stderr()).filter((f) => f.at >= stoppedAt);
    const outage = (Date.now() - stoppedAt) / 1000;
    for (const audience of ["aws", "azure"]) {
      const times = failures.filter((f) => f.audience === audience).map((f) => f.at);
      expect(times.length).toBeGreaterThanOrEqual(1);
      expect(times.length).toBeLessThanOrEqual(outage + 5);
      const gaps = times.slice(1).map((t, i) => t - times[i]!);
      for (const gap of gaps.slice(3)) expect(gap).toBeGreaterThanOrEqual(900);
      if (gaps.length >= 6) expect(new Set(gaps.slice(3).map((g) => Math.round(g / 50))).size).toBeGreaterThan(1);
    }
    console.warn(
      `keycloak outage: down ${downFor.toFixed(0)} s before restart, restart ${((Date.now() - restartedAt) / 1000).toFixed(0)} s, ${failures.length} failed refreshes, ${served.length} requests served`,
    );
  });
});
