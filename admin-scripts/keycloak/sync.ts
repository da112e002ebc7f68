/**
 * Plan and apply across every cluster of the trust domain.
 *
 * apply works in two stages so that one bad cluster never leaves the others half-done:
 *   1. on every cluster: sign in, create the realm if missing, take the lock, read, diff. Any
 *      failure here (unreachable, locked, a conflict with something realm-sync does not own)
 *      releases every lock and writes nothing more anywhere.
 *   2. on every cluster at once: write the plan, then read again and diff to prove convergence.
 *      A failure is reported for its cluster; the others complete.
 * An apply killed in stage 2 leaves a lease-bound lock and a partial state; the next apply (after
 * the lease) computes a fresh diff and finishes the job.
 */
import { summarize, type ClusterPlan } from "../diff/changes.ts";
import { diffCluster } from "../diff/diff.ts";
import type { LiveState } from "../diff/live.ts";
import type { DesiredState } from "../desired/types.ts";
import { RealmSyncError } from "../errors.ts";
import { managedSubjects } from "../diff/foreign.ts";
import { assertExtension, readServerInfo, type ServerInfo } from "./extension.ts";
import { acquireLock, type HeldLock } from "./lock.ts";
import { readLive } from "./read.ts";
import { ensureRealm } from "./realm.ts";
import { openSession, type ClusterSession, type ClusterTarget } from "./session.ts";
import { writePlan, type WriteFailure } from "./write.ts";

export interface PlannedCluster {
  cluster: string;
  url: string;
  plan: ClusterPlan;
  live: LiveState;
  readMs: number;
}

export interface ClusterFailure {
  cluster: string;
  url: string;
  error: RealmSyncError;
}

async function settle<T>(
  targets: readonly ClusterTarget[],
  fn: (t: ClusterTarget) => Promise<T>,
): Promise<{ ok: T[]; failed: ClusterFailure[] }> {
  const results = await Promise.allSettled(targets.map(fn));
  const ok: T[] = [];
  const failed: ClusterFailure[] = [];
  results.forEach((r, i) => {
    const t = targets[i]!;
    if (r.status === "fulfilled") ok.push(r.value);
    else
      failed.push({
        cluster: t.name,
        url: t.adminUrl,
        error:
          r.reason instanceof RealmSyncError
            ? r.reason
            : new RealmSyncError("INTERNAL", `cluster ${t.name}: ${(r.reason as Error).message}`, { cluster: t.name, cause: r.reason }),
      });
  });
  return { ok, failed };
}

/**
 * Reads and diffs one cluster (read-only); refuses a cluster without the Keycloak extension the state
 * needs. `known`: the server info this command already read from the cluster (apply reads it once, not per read).
 */
export async function planCluster(session: ClusterSession, desired: DesiredState, known?: ServerInfo): Promise<PlannedCluster> {
  const started = Date.now();
  const server = known ?? (await readServerInfo(session));
  if (desired.extension) assertExtension(session, desired.extension, server);
  const live: LiveState = {
    ...(await readLive(session, desired.realm.realm, [...managedSubjects(desired).keys()], { expectedClients: desired.clients.length })),
    server: { enabledFeatures: server.enabledFeatures },
  };
  const readMs = Date.now() - started;
  return { cluster: session.name, url: session.url, plan: diffCluster(session.name, desired, live), live, readMs };
}

/** Plans every target in parallel; a cluster that cannot be read is a failure, the others are still planned. */
export async function planAll(
  targets: readonly ClusterTarget[],
  desired: DesiredState,
): Promise<{ planned: PlannedCluster[]; failed: ClusterFailure[] }> {
  const { ok, failed } = await settle(targets, async (t) => planCluster(await openSession(t), desired));
  return { planned: ok, failed };
}

export interface ApplyOptions {
  concurrency: number;
  leaseMs: number;
  onProgress?: (cluster: string, done: number, total: number) => void;
}

export interface AppliedCluster {
  cluster: string;
  url: string;
  /** The plan this apply carried out. */
  plan: ClusterPlan;
  writes: string[];
  failures: WriteFailure[];
  /** Changes still pending after the apply (empty when the cluster converged). */
  remaining: ClusterPlan;
  /** Writing and verifying (the timings below: the stage-1 read, the writes, the read that proves convergence). */
  durationMs: number;
  timings: { readMs: number; writeMs: number; verifyMs: number };
}

export type ApplyOutcome =
  /** Stage 1 failed somewhere: nothing was written (beyond creating a missing realm). */
  | { stage: "refused"; failed: ClusterFailure[]; plans: PlannedCluster[] }
  | { stage: "applied"; clusters: AppliedCluster[]; failed: ClusterFailure[] };

interface Prepared {
  session: ClusterSession;
  server: ServerInfo;
  lock: HeldLock;
  planned: PlannedCluster;
}

/** Makes every target match `desired`. */
export async function applyAll(targets: readonly ClusterTarget[], desired: DesiredState, opts: ApplyOptions): Promise<ApplyOutcome> {
  // Stage 1a: sign in everywhere before writing anything.
  const sessions = await settle(targets, (t) => openSession(t));
  if (sessions.failed.length) return { stage: "refused", failed: sessions.failed, plans: [] };

  // Stage 1b: realm, lock, read, diff.
  const bySession = new Map(sessions.ok.map((s) => [s.name, s]));
  const prepared = await settle(targets, async (t): Promise<Prepared> => {
    const session = bySession.get(t.name)!;
    const server = await readServerInfo(session);
    if (desired.extension) assertExtension(session, desired.extension, server);
    await ensureRealm(session, desired.realm);
    const lock = await acquireLock(session, desired.realm.realm, { leaseMs: opts.leaseMs });
    try {
      const planned = await planCluster(session, desired, server);
      const conflicts = planned.plan.changes.filter((c) => c.op === "conflict");
      if (conflicts.length) {
        throw new RealmSyncError(
          "APPLY_FAILED",
          `cluster ${t.name}: ${conflicts.length} conflict${conflicts.length === 1 ? "" : "s"} with resources realm-sync does not manage: ${conflicts.map((c) => `${c.kind} ${c.name}`).join(", ")}`,
          { cluster: t.name },
        );
      }
      return { session, server, lock, planned };
    } catch (error) {
      await lock.release().catch(() => undefined);
      throw error;
    }
  });
  if (prepared.failed.length) {
    await Promise.all(prepared.ok.map((p) => p.lock.release().catch(() => undefined)));
    return { stage: "refused", failed: prepared.failed, plans: prepared.ok.map((p) => p.planned) };
  }

  // Stage 2: write everywhere, verify.
  const applied = await settle(targets, async (t): Promise<AppliedCluster> => {
    const { session, server, lock, planned } = prepared.ok.find((p) => p.session.name === t.name)!;
    const started = Date.now();
    try {
      const result = await writePlan(session, desired, planned.live, planned.plan, {
        concurrency: opts.concurrency,
        assertLocked: () => lock.assertHeld(),
        onProgress: (done, total) => opts.onProgress?.(t.name, done, total),
      });
      const written = Date.now();
      const after = await planCluster(session, desired, server);
      return {
        cluster: t.name,
        url: session.url,
        plan: planned.plan,
        writes: result.writes,
        failures: result.failures,
        remaining: after.plan,
        durationMs: Date.now() - started,
        timings: { readMs: planned.readMs, writeMs: written - started, verifyMs: after.readMs },
      };
    } finally {
      await lock.release().catch(() => undefined);
    }
  });
  return { stage: "applied", clusters: applied.ok, failed: applied.failed };
}

/** One line per cluster for a finished apply. */
export function describeApplied(c: AppliedCluster): string {
  const s = summarize(c.plan.changes);
  const secs = (c.durationMs / 1000).toFixed(1);
  if (c.plan.changes.length === 0) return `${c.cluster}: already in sync (${secs} s)`;
  const done = `${s.create} created, ${s.update} updated, ${s.delete} deleted (${c.writes.length} writes, ${secs} s)`;
  if (c.failures.length === 0 && c.remaining.changes.length === 0) return `${c.cluster}: ${done}; in sync`;
  return `${c.cluster}: ${done}; ${c.failures.length} failed, ${c.remaining.changes.length} still pending`;
}
