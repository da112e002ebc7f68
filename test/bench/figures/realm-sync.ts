/**
 * Figure 7: realm-sync on both clusters at 500 workloads — apply of 500 new workloads, a no-op plan,
 * and one changed workload. A proxy in front of each cluster's admin API counts every call of each
 * step (reads and writes: a count does not depend on the machine's load, a time does); the changed
 * workload's writes are judged from the proxy, not from realm-sync's own report (shown beside them).
 */
import { LOCK_CLIENT_ID } from "../../../admin-scripts/desired/names.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../../support/realm-fixture.ts";
import { isWrite, startCountingProxy, type CountingProxy, type SeenCall } from "../env/counting-proxy.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { below, exactly } from "../report/targets.ts";
import type { FigureContext } from "./serving.ts";

const ACCOUNT = "210987654321";

const workloadName = (i: number) => `w-${String(i).padStart(4, "0")}`;

interface Timed {
  ms: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

async function timed(fx: RealmFixture, command: "plan" | "apply"): Promise<Timed> {
  const started = performance.now();
  const result = await fx.run(command, { json: true });
  return { ms: performance.now() - started, ...result };
}

/** Admin API calls of one step on every cluster, e.g. `a: 1503 (1501 GET, 2 writes)`. */
function callCounts(proxies: readonly CountingProxy[], names: readonly string[], from: readonly number[]): string {
  return proxies
    .map((p, i) => {
      const calls = p.calls.slice(from[i] ?? 0).filter((c) => c.path.startsWith("/admin/"));
      const writes = calls.filter(isWrite).length;
      return `${names[i]}: ${calls.length} (${calls.length - writes} reads, ${writes} writes)`;
    })
    .join("; ");
}

interface AppliedJson {
  cluster: string;
  writes?: number;
  timings?: { readMs: number; writeMs: number; verifyMs: number };
}

function appliedOf(stdout: string): AppliedJson[] {
  try {
    return (JSON.parse(stdout) as { clusters: AppliedJson[] }).clusters;
  } catch {
    return [];
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `GET /admin/realms/{realm}/users/{id}/role-mappings`: a call's kind, without its realm and ids. */
function kindOf(call: SeenCall): string {
  const parts = call.path.split("/").map((p, i, all) => (all[i - 1] === "realms" ? "{realm}" : UUID.test(p) ? "{id}" : p));
  return `${call.method} ${parts.join("/").replace("/admin/realms/{realm}", "")}`;
}

/** Where one step's admin calls spent their time (both clusters): the kinds with the largest sum of latencies. */
function slowestKinds(proxies: readonly CountingProxy[], from: readonly number[], top = 4): string {
  const byKind = new Map<string, { n: number; ms: number; max: number }>();
  proxies.forEach((p, i) => {
    for (const c of p.calls.slice(from[i] ?? 0).filter((x) => x.path.startsWith("/admin/"))) {
      const k = byKind.get(kindOf(c)) ?? { n: 0, ms: 0, max: 0 };
      byKind.set(kindOf(c), { n: k.n + 1, ms: k.ms + c.ms, max: Math.max(k.max, c.ms) });
    }
  });
  return [...byKind.entries()]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([kind, k]) => `${kind} ×${k.n} Σ ${(k.ms / 1000).toFixed(1)} s (max ${(k.max / 1000).toFixed(2)} s)`)
    .join("; ");
}

function writesOf(stdout: string): Record<string, number> {
  return Object.fromEntries(appliedOf(stdout).map((c) => [c.cluster, c.writes ?? Number.NaN]));
}

/** Where one apply's time went per cluster (realm-sync's report), e.g. `eu: read 1.2 s, write 40.1 s, verify 9.8 s`. */
function timingsOf(stdout: string): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  return appliedOf(stdout)
    .flatMap((c) =>
      c.timings ? [`${c.cluster}: read ${s(c.timings.readMs)}, write ${s(c.timings.writeMs)}, verify ${s(c.timings.verifyMs)}`] : [],
    )
    .join("; ");
}

export async function realmSyncFigure(ctx: FigureContext): Promise<Row[]> {
  const { world, log, quick } = ctx;
  const count = quick ? 100 : 500;
  const CHANGED = workloadName(Math.ceil(count / 2));
  const secret = randomClientSecret();
  const fx = await createRealmFixture({
    domain: world.domain.info,
    prefix: "bench-rs",
    files: { "w.secret": secret },
    workloads: Array.from({ length: count }, (_, i) => ({
      name: workloadName(i + 1),
      subject: `workload:${workloadName(i + 1)}`,
      authentication: { clientSecret: { file: "w.secret" } },
      aws: { roles: [{ arn: `arn:aws:iam::${ACCOUNT}:role/${workloadName(i + 1)}` }] },
    })),
  });
  const proxies: CountingProxy[] = [];
  const rows: Row[] = [];
  const scale = quick ? ` (--quick: ${count} workloads, targets are for 500)` : "";
  const names = world.domain.info.clusters.map((c) => c.name);
  const mark = () => proxies.map((p) => p.calls.length);
  try {
    for (const c of world.domain.info.clusters) proxies.push(await startCountingProxy(c.url, world.pki));
    fx.writeConfig((doc) => {
      const clusters = doc.clusters as Array<{ name: string; adminUrl: string }>;
      clusters.forEach((c, i) => (c.adminUrl = proxies[i]?.url ?? c.adminUrl));
    });
    log(`figure 7: realm-sync apply of ${count} new workloads on ${world.domain.info.clusters.length} clusters`);
    const beforeApply = mark();
    const applied = await timed(fx, "apply");
    if (applied.exitCode !== 0) throw new Error(`apply exited ${applied.exitCode}: ${applied.stderr.slice(-2000)}`);
    rows.push(
      measuredRow({
        id: "7-apply",
        figure: "7",
        title: `realm-sync apply of ${count} new workloads, 2 clusters`,
        value: applied.ms / 1000,
        shown: `${(applied.ms / 1000).toFixed(1)} s`,
        target: below(90, "s"),
        details: [
          `realm created, signing key, scopes and ${count} clients on each cluster, then re-read and diffed to prove convergence; writes per cluster (realm-sync's report): ${JSON.stringify(writesOf(applied.stdout))}${scale}`,
          `admin API calls (counting proxy): ${callCounts(proxies, names, beforeApply)}`,
          `time by call kind (sum of latencies, both clusters, several in flight): ${slowestKinds(proxies, beforeApply)}`,
          `time per cluster (realm-sync's report; the clusters run in parallel): ${timingsOf(applied.stdout) || "—"}`,
        ],
      }),
    );

    log(`figure 7: no-op plan of ${count} workloads`);
    const beforePlan = mark();
    const planned = await timed(fx, "plan");
    rows.push(
      measuredRow({
        id: "7-plan",
        figure: "7",
        title: `realm-sync no-op plan of ${count} workloads, 2 clusters`,
        value: planned.exitCode === 0 ? planned.ms / 1000 : Number.NaN,
        shown: `${(planned.ms / 1000).toFixed(1)} s`,
        target: below(10, "s"),
        details: [
          `exit ${planned.exitCode} (0 = every cluster in sync): sign-in, bulk reads of realm, keys, scopes, identity providers and clients, pure diff${scale}`,
          `admin API calls (counting proxy): ${callCounts(proxies, names, beforePlan)}`,
          `time by call kind (sum of latencies, both clusters, several in flight): ${slowestKinds(proxies, beforePlan)}`,
        ],
      }),
    );

    log(`figure 7: one changed workload (${CHANGED}), writes counted by a proxy in front of each admin API`);
    const beforeChange = mark();
    fx.writeConfig((doc) => {
      const w = (doc.workloads as Array<{ name: string; subject: string }>).find((x) => x.name === CHANGED);
      if (w) w.subject = `workload:${CHANGED}:v2`;
    });
    const changed = await timed(fx, "apply");
    if (changed.exitCode !== 0) throw new Error(`apply of one change exited ${changed.exitCode}: ${changed.stderr.slice(-2000)}`);
    const perCluster: string[] = [];
    let foreign = 0;
    let toWorkload = 0;
    for (const [i, c] of world.domain.info.clusters.entries()) {
      const admin = await fx.admin(c.name);
      const [client] = await admin.clients.find({ clientId: CHANGED });
      const id = client?.id ?? "?";
      const writes = (proxies[i]?.calls ?? []).slice(beforeChange[i] ?? 0).filter(isWrite);
      const lockIds = new Set(
        writes.filter((w) => w.clientId === LOCK_CLIENT_ID && w.location).map((w) => w.location?.split("/").at(-1) ?? ""),
      );
      const mine = writes.filter((w) => w.path.includes(`/clients/${id}`));
      const lock = writes.filter((w) => w.clientId === LOCK_CLIENT_ID || [...lockIds].some((l) => l && w.path.includes(`/clients/${l}`)));
      const other = writes.filter((w) => !mine.includes(w) && !lock.includes(w));
      foreign += other.length;
      toWorkload += mine.length > 0 ? 1 : 0;
      perCluster.push(
        `${c.name}: ${mine.length} write(s) to client ${CHANGED} (${mine.map((w) => `${w.method} …${w.path.slice(w.path.indexOf("/clients/"))}`.replace(id, "<id>")).join(", ")}), ${lock.length} to the apply lock, ${other.length} other${other.length ? `: ${other.map((w) => `${w.method} ${w.path}`).join(", ")}` : ""}`,
      );
    }
    const clusters = world.domain.info.clusters.length;
    rows.push(
      measuredRow({
        id: "7-one-change",
        figure: "7",
        title: `one changed workload: writes to other objects (of ${count})`,
        value: toWorkload === clusters ? foreign : Number.NaN,
        shown: toWorkload === clusters ? String(foreign) : "—",
        target: exactly(0),
        details: [
          `${CHANGED}'s subject changed; apply took ${(changed.ms / 1000).toFixed(1)} s; realm-sync's own report: ${JSON.stringify(writesOf(changed.stdout))} writes (the lock is not counted there)`,
          ...perCluster,
          `admin API calls (counting proxy): ${callCounts(proxies, names, beforeChange)}`,
          ...(toWorkload === clusters ? [] : [`INVALID: the changed workload got no write on ${clusters - toWorkload} cluster(s)`]),
        ],
      }),
    );
    return rows;
  } finally {
    await Promise.all(proxies.map((p) => p.close()));
    await fx.remove();
  }
}
