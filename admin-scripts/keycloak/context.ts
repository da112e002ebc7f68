/**
 * Everything plan, apply and check need before they touch a cluster, computed offline and all at
 * once: the validated config, every secret resolved, the desired Keycloak state and the clusters
 * to talk to. A bad config (or a missing secret) fails here, before any network call.
 */
import { readTrustDomainFile, type CommonOptions } from "../command.ts";
import { buildDesired, DesiredStateError } from "../desired/build.ts";
import type { DesiredState } from "../desired/types.ts";
import { RealmSyncError, type ConfigIssue } from "../errors.ts";
import { formatPath } from "../../realm-config/model/path.ts";
import { resolveSecret } from "../../realm-config/model/load.ts";
import type { TrustDomain } from "../../realm-config/model/schema.ts";
import type { ConfigSource } from "../../realm-config/model/yaml-source.ts";
import type { ClusterTarget } from "./session.ts";

export interface SyncContext {
  config: TrustDomain;
  source: ConfigSource;
  desired: DesiredState;
  /** The clusters selected with `--cluster` (all by default), in config order. */
  targets: ClusterTarget[];
}

function located(source: ConfigSource, problems: DesiredStateError["problems"]): ConfigIssue[] {
  return problems.map((p) => ({
    file: source.file,
    ...source.locate(p.path),
    path: formatPath(p.path),
    message: p.message,
    severity: "error" as const,
  }));
}

/** Which of a cluster's identities a command signs in with: `apply` writes, `plan` and `check` only read. */
export type IdentityRole = "apply" | "view";

/** Loads, validates and resolves; throws CONFIG_INVALID / SECRET_UNAVAILABLE / USAGE with every problem located. */
export async function prepare(opts: CommonOptions & { cluster: readonly string[] }, role: IdentityRole): Promise<SyncContext> {
  const { config, source } = await readTrustDomainFile(opts, { requireAdminUrls: true });
  const secret = (ref: Parameters<typeof resolveSecret>[0]) => resolveSecret(ref, { baseDir: source.dir, env: opts.env });

  const unknown = opts.cluster.filter((name) => !config.clusters.some((c) => c.name === name));
  if (unknown.length)
    throw new RealmSyncError(
      "USAGE",
      `no cluster named ${unknown.join(", ")} in ${source.file} (clusters: ${config.clusters.map((c) => c.name).join(", ")})`,
    );
  const selected = config.clusters.filter((c) => opts.cluster.length === 0 || opts.cluster.includes(c.name));

  const problems: DesiredStateError["problems"] = [];
  const targets: ClusterTarget[] = [];
  for (const cluster of selected) {
    const i = config.clusters.indexOf(cluster);
    // Only this command's identity is resolved: a plan job needs no write identity's secret.
    const split = "apply" in cluster.auth;
    const auth = "apply" in cluster.auth ? cluster.auth[role] : cluster.auth;
    try {
      const credentials =
        "username" in auth
          ? { username: auth.username, password: secret(auth.password) }
          : { clientId: auth.clientId, clientSecret: secret(auth.clientSecret) };
      targets.push({ name: cluster.name, adminUrl: cluster.adminUrl, credentials });
    } catch (error) {
      problems.push({
        path: ["clusters", i, "auth", ...(split ? [role] : []), "username" in auth ? "password" : "clientSecret"],
        message: (error as Error).message,
        secret: true,
      });
    }
  }

  let desired: DesiredState | undefined;
  try {
    desired = await buildDesired(config, secret);
  } catch (error) {
    if (!(error instanceof DesiredStateError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length || !desired) {
    const onlySecrets = problems.every((p) => p.secret);
    throw new RealmSyncError(
      onlySecrets ? "SECRET_UNAVAILABLE" : "CONFIG_INVALID",
      `${source.file}: ${problems.length} problem${problems.length === 1 ? "" : "s"} before contacting any cluster`,
      {
        issues: located(source, problems),
      },
    );
  }
  return { config, source, desired, targets };
}

/** Tuning from the command's environment (never from process.env directly). */
export interface SyncTuning {
  /** Writes (apply) or token evaluations (check) in flight per cluster. */
  concurrency: number;
  /** Lease of apply's per-cluster lock. */
  leaseMs: number;
}

function positiveInt(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new RealmSyncError("USAGE", `${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** KCB_REALM_SYNC_CONCURRENCY (default 8) and KCB_REALM_SYNC_LOCK_LEASE_SECONDS (default 120). */
export function tuning(env: Readonly<Record<string, string | undefined>>): SyncTuning {
  return {
    concurrency: positiveInt(env, "KCB_REALM_SYNC_CONCURRENCY", 8),
    leaseMs: positiveInt(env, "KCB_REALM_SYNC_LOCK_LEASE_SECONDS", 120) * 1000,
  };
}
