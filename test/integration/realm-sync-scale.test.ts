/**
 * The performance targets of realm-sync, measured on both real clusters: applying 500 new workloads
 * in under 90 s, a no-op plan of 500 workloads in under 10 s (bulk reads), and a change to one
 * workload writing that workload only. KCB_REALM_SYNC_SCALE changes the count.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createRealmFixture, randomClientSecret, type RealmFixture, type WorkloadInput } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
const COUNT = Number(process.env.KCB_REALM_SYNC_SCALE ?? 500);
let fx: RealmFixture;

function workload(i: number): WorkloadInput {
  const authentication =
    i % 3 === 0
      ? { kubernetes: { issuer: `https://k8s-${i % 4}.scale.example`, serviceAccount: `system:serviceaccount:ns-${i}:sa-${i}` } }
      : i % 3 === 1
        ? { privateKeyJwt: { jwksUrl: `https://jobs.scale.example/${i}/jwks` } }
        : { clientSecret: { file: "shared.secret" } };
  return {
    name: `wl-${String(i).padStart(4, "0")}`,
    subject: `workload:wl-${i}`,
    authentication,
    aws: { roles: [{ arn: `arn:aws:iam::111122223333:role/wl-${i}` }], sessionTags: { team: `t${i % 7}`, index: String(i) }, transitiveTagKeys: ["team"] },
    ...(i % 2 ? { azure: { identities: [{ name: `id-${i}`, tenantId: "8f3a1c52-6b0e-4d7a-9c21-5e4b7a9d0f13", clientId: `5d1f7a30-9e4c-4b62-a7d8-${String(i).padStart(12, "0")}`, scopes: ["https://storage.azure.com/.default"] }] } } : {}),
  };
}

interface ApplyJson {
  clusters: Array<{ cluster: string; writes: number; durationMs: number; summary: { create: number; update: number; delete: number } }>;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const value = await fn();
  return [value, performance.now() - started];
}

beforeAll(async () => {
  fx = await createRealmFixture({ domain, prefix: "realm-sync-scale", files: { "shared.secret": randomClientSecret() }, workloads: Array.from({ length: COUNT }, (_, i) => workload(i)) });
});

afterAll(async () => {
  await fx?.remove();
});

describe(`realm-sync with ${COUNT} workloads on ${domain.clusters.length} clusters`, () => {
  it("applies them all from empty in under 90 s", async () => {
    const [result, ms] = await timed(() => fx.run("apply", { json: true }));
    expect(result.exitCode, result.stderr).toBe(0);
    const clusters = (JSON.parse(result.stdout) as ApplyJson).clusters;
    for (const c of clusters) expect(c.summary.create).toBeGreaterThanOrEqual(COUNT);
    console.warn(`[realm-sync scale] apply of ${COUNT} new workloads: ${(ms / 1000).toFixed(1)} s (${clusters.map((c) => `${c.cluster} ${c.writes} writes in ${(c.durationMs / 1000).toFixed(1)} s`).join(", ")})`);
    expect(ms).toBeLessThan(90_000);
  });

  it("plans no change in under 10 s", async () => {
    const [result, ms] = await timed(() => fx.run("plan"));
    expect(result.exitCode).toBe(0);
    console.warn(`[realm-sync scale] no-op plan of ${COUNT} workloads: ${(ms / 1000).toFixed(2)} s`);
    expect(ms).toBeLessThan(10_000);
  });

  it("writes only the workload that changed", async () => {
    fx.writeConfig((doc) => {
      const w = (doc.workloads as Array<{ name: string; aws: { sessionTags: Record<string, string> } }>)[7]!;
      w.aws.sessionTags.team = "moved";
    });
    const [result, ms] = await timed(() => fx.run("apply", { json: true }));
    expect(result.exitCode, result.stderr).toBe(0);
    const clusters = (JSON.parse(result.stdout) as ApplyJson & { clusters: Array<{ changes: Array<{ op: string; name: string }> }> }).clusters;
    for (const c of clusters) {
      expect(c.changes.map((x) => `${x.op} ${x.name}`)).toEqual(["update wl-0007"]);
      expect(c.writes).toBe(1);
    }
    console.warn(`[realm-sync scale] one changed workload: 1 write per cluster, ${(ms / 1000).toFixed(2)} s`);
  });

  it("checks drift and coherence of every workload token", async () => {
    const [result, ms] = await timed(() => fx.run("check"));
    expect(result.exitCode, result.stdout).toBe(0);
    console.warn(`[realm-sync scale] check (drift + ${COUNT} workloads' tokens per scope on every cluster): ${(ms / 1000).toFixed(1)} s`);
  });
});
