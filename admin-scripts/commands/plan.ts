/**
 * `realm-sync plan <config>`: per cluster, what apply would create, update or delete, down to the
 * field. Read-only. Exit 0 when every cluster is in sync, 3 when changes are pending, 1 when a
 * cluster could not be read (named; the others are still planned and shown).
 */
import type { PlanOptions } from "../command.ts";
import { summarize } from "../diff/changes.ts";
import { formatClusterPlan } from "../diff/format.ts";
import type { Outcome } from "../errors.ts";
import { prepare } from "../keycloak/context.ts";
import { planAll } from "../keycloak/sync.ts";

export async function run(opts: PlanOptions): Promise<Outcome> {
  const ctx = await prepare(opts, "view");
  const { planned, failed } = await planAll(ctx.targets, ctx.desired);
  const order = ctx.targets.map((t) => t.name);
  planned.sort((a, b) => order.indexOf(a.cluster) - order.indexOf(b.cluster));

  if (opts.json) {
    const clusters = order.map((name) => {
      const p = planned.find((x) => x.cluster === name);
      if (p)
        return {
          cluster: name,
          url: p.url,
          realm: p.plan.realm,
          inSync: p.plan.changes.length === 0,
          summary: summarize(p.plan.changes),
          changes: p.plan.changes,
        };
      const f = failed.find((x) => x.cluster === name)!;
      return { cluster: name, url: f.url, error: { code: f.error.code, message: f.error.message } };
    });
    opts.stdout.write(`${JSON.stringify({ realm: ctx.desired.realm.realm, clusters }, null, 2)}\n`);
  } else {
    for (const p of planned) opts.stdout.write(`${formatClusterPlan(p.plan, { url: p.url })}\n`);
  }
  for (const f of failed) opts.stderr.write(`realm-sync: ${f.error.message}\n`);

  if (failed.length) return failed[0]!.error.code;
  return planned.some((p) => p.plan.changes.length > 0) ? "CHANGES_PENDING" : "OK";
}
