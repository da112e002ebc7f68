/**
 * `realm-sync apply <config>`: makes every cluster match the config. Idempotent; touches only what
 * realm-sync manages. The whole config is validated and every secret resolved before any cluster is
 * contacted. Tuning (environment): KCB_REALM_SYNC_CONCURRENCY (client writes in flight per
 * cluster, default 8), KCB_REALM_SYNC_LOCK_LEASE_SECONDS (lease of the per-cluster apply lock,
 * default 120).
 */
import type { ApplyOptions } from "../command.ts";
import { summarize } from "../diff/changes.ts";
import { formatClusterPlan } from "../diff/format.ts";
import { RealmSyncError, type Outcome } from "../errors.ts";
import { prepare, tuning } from "../keycloak/context.ts";
import { applyAll, describeApplied, type ClusterFailure } from "../keycloak/sync.ts";

function combined(failed: ClusterFailure[], what: string): RealmSyncError {
  const first = failed[0]!.error;
  const code = failed.some((f) => f.error.code === "LOCKED") ? "LOCKED" : first.code;
  return new RealmSyncError(code, `${what}: ${failed.map((f) => f.error.message).join("; ")}`, {
    cluster: failed.length === 1 ? first.cluster : undefined,
    cause: first,
  });
}

export async function run(opts: ApplyOptions): Promise<Outcome> {
  const { concurrency, leaseMs } = tuning(opts.env);
  const ctx = await prepare(opts, "apply");
  const outcome = await applyAll(ctx.targets, ctx.desired, { concurrency, leaseMs });

  if (outcome.stage === "refused") {
    if (opts.json) {
      opts.stdout.write(
        `${JSON.stringify({ realm: ctx.desired.realm.realm, applied: false, clusters: outcome.failed.map((f) => ({ cluster: f.cluster, url: f.url, error: { code: f.error.code, message: f.error.message } })) }, null, 2)}\n`,
      );
    }
    throw combined(outcome.failed, "apply refused, nothing was changed");
  }

  const order = ctx.targets.map((t) => t.name);
  const clusters = [...outcome.clusters].sort((a, b) => order.indexOf(a.cluster) - order.indexOf(b.cluster));
  if (opts.json) {
    const out = clusters.map((c) => ({
      cluster: c.cluster,
      url: c.url,
      summary: summarize(c.plan.changes),
      changes: c.plan.changes,
      writes: c.writes.length,
      durationMs: c.durationMs,
      timings: c.timings,
      failures: c.failures.map((f) => ({ kind: f.kind, name: f.name, op: f.op, code: f.error.code, message: f.error.message })),
      remaining: c.remaining.changes,
    }));
    opts.stdout.write(
      `${JSON.stringify({ realm: ctx.desired.realm.realm, applied: true, clusters: [...out, ...outcome.failed.map((f) => ({ cluster: f.cluster, url: f.url, error: { code: f.error.code, message: f.error.message } }))] }, null, 2)}\n`,
    );
  } else {
    for (const c of clusters) {
      if (c.plan.changes.length) opts.stdout.write(`${formatClusterPlan(c.plan, { url: c.url, fields: false })}\n`);
      opts.stdout.write(`${describeApplied(c)}\n`);
    }
  }

  const broken: ClusterFailure[] = [...outcome.failed];
  for (const c of clusters) {
    for (const f of c.failures) opts.stderr.write(`realm-sync: ${f.error.message}\n`);
    if (c.failures.length || c.remaining.changes.length) {
      const pending = c.remaining.changes
        .map((ch) => `${ch.op} ${ch.kind} ${ch.name}`)
        .slice(0, 10)
        .join(", ");
      broken.push({
        cluster: c.cluster,
        url: c.url,
        error: new RealmSyncError(
          "APPLY_FAILED",
          `cluster ${c.cluster}: ${c.failures.length} change(s) failed; still pending: ${pending || "nothing"}`,
          { cluster: c.cluster },
        ),
      });
    }
  }
  if (broken.length) throw combined(broken, "apply incomplete");
  return "OK";
}
