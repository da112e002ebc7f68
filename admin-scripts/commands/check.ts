/**
 * `realm-sync check <config>`: drift (live differs from the config) and trust-domain coherence
 * (every cluster publishes the configured issuer and the same JWKS, and mints tokens with the same
 * iss, sub, aud, kid and session tags). Read-only. Exit 0 in sync and coherent, 3 drift or
 * incoherence found, 1 a cluster unreachable (named; the others are still checked).
 * KCB_REALM_SYNC_CONCURRENCY (default 8): token evaluations in flight per cluster.
 */
import type { CheckOptions } from "../command.ts";
import { formatClusterPlan } from "../diff/format.ts";
import type { Outcome } from "../errors.ts";
import { checkAll } from "../keycloak/check.ts";
import { prepare, tuning } from "../keycloak/context.ts";

export async function run(opts: CheckOptions): Promise<Outcome> {
  const { concurrency } = tuning(opts.env);
  const ctx = await prepare(opts, "view");
  const outcome = await checkAll(ctx.targets, ctx.desired, { concurrency });
  const order = ctx.targets.map((t) => t.name);
  outcome.planned.sort((a, b) => order.indexOf(a.cluster) - order.indexOf(b.cluster));
  const drift = outcome.findings.filter((f) => f.type === "drift");
  const incoherent = outcome.findings.filter((f) => f.type === "incoherent");

  if (opts.json) {
    const clusters = outcome.planned.map((p) => ({
      cluster: p.cluster,
      url: p.url,
      inSync: p.plan.changes.length === 0,
      changes: p.plan.changes,
    }));
    const errors = outcome.failed.map((f) => ({ cluster: f.cluster, url: f.url, error: { code: f.error.code, message: f.error.message } }));
    opts.stdout.write(
      `${JSON.stringify({ realm: ctx.desired.realm.realm, inSync: drift.length === 0, coherent: incoherent.length === 0, clusters: [...clusters, ...errors], findings: outcome.findings }, null, 2)}\n`,
    );
  } else {
    for (const p of outcome.planned) if (p.plan.changes.length) opts.stdout.write(`drift: ${formatClusterPlan(p.plan, { url: p.url })}\n`);
    for (const f of incoherent) opts.stdout.write(`incoherent: ${f.cluster ? `${f.cluster}: ` : ""}${f.message}\n`);
    const checked = outcome.planned.map((p) => p.cluster).join(", ");
    if (outcome.findings.length === 0 && checked) opts.stdout.write(`${checked}: in sync and coherent (issuer ${ctx.desired.issuer})\n`);
    else if (checked) opts.stdout.write(`check: ${drift.length} cluster(s) drifted, ${incoherent.length} coherence problem(s)\n`);
  }
  for (const f of outcome.failed) opts.stderr.write(`realm-sync: ${f.error.message}\n`);

  if (outcome.failed.length) return outcome.failed[0]!.error.code;
  return drift.length ? "DRIFT" : incoherent.length ? "INCOHERENT" : "OK";
}
