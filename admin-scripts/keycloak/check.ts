/**
 * `check`'s I/O: drift (the plan of every cluster) and trust-domain coherence, observed the way
 * AWS and Entra observe it, on each cluster directly (not through the shared front):
 *   - discovery `issuer` and the JWKS each cluster publishes, key by key against the committed
 *     certificates (`kid`, `n`/`e`, `x5c`): realm-sync holds no private key, only what is public;
 *   - for every workload and each of its cloud scopes, the token Keycloak would mint (the admin
 *     "generate example access token" evaluation, which runs the same mappers), plus the `kid`
 *     each cluster signs with.
 * The comparisons themselves are pure (`diff/coherence.ts`).
 */
import type { JSONWebKeySet } from "jose";
import {
  canonicalJwks,
  claimFindings,
  expectedClaims,
  jwksFindings,
  observedClaims,
  sameEverywhere,
  type Finding,
} from "../diff/coherence.ts";
import type { DesiredState } from "../desired/types.ts";
import { clusterError } from "./errors.ts";
import { settleAll } from "./pool.ts";
import { openSession, type ClusterSession, type ClusterTarget } from "./session.ts";
import { planCluster, type ClusterFailure, type PlannedCluster } from "./sync.ts";

export interface ClusterObservation {
  cluster: string;
  issuer: string | undefined;
  jwks: JSONWebKeySet | undefined;
  /** The kid this cluster signs RS256 with (admin keys endpoint). */
  activeKid: string | undefined;
  /** `${clientId} ${scope}` → example token payload. */
  examples: Map<string, Record<string, unknown>>;
  findings: Finding[];
}

const TIMEOUT_MS = 30_000;

async function getJson(fetchImpl: typeof fetch, url: string): Promise<unknown> {
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return res.json();
}

/** Everything one cluster publishes and mints; problems reaching a part become findings, not exceptions. */
export async function observeCluster(
  session: ClusterSession,
  planned: PlannedCluster,
  desired: DesiredState,
  opts: { concurrency: number; fetch?: typeof fetch },
): Promise<ClusterObservation> {
  const fetchImpl = opts.fetch ?? fetch;
  const realm = desired.realm.realm;
  const base = `${session.url}/realms/${encodeURIComponent(realm)}`;
  const obs: ClusterObservation = {
    cluster: session.name,
    issuer: undefined,
    jwks: undefined,
    activeKid: undefined,
    examples: new Map(),
    findings: [],
  };
  const problem = (message: string) => obs.findings.push({ type: "incoherent", cluster: session.name, message });

  if (!planned.live.realm) {
    problem(`realm ${realm} does not exist`);
    return obs;
  }
  await Promise.all([
    getJson(fetchImpl, `${base}/.well-known/openid-configuration`).then(
      (d) => void (obs.issuer = (d as { issuer?: string }).issuer),
      (e: Error) => problem(`discovery: ${e.message}`),
    ),
    getJson(fetchImpl, `${base}/protocol/openid-connect/certs`).then(
      (j) => void (obs.jwks = j as JSONWebKeySet),
      (e: Error) => problem(`JWKS: ${e.message}`),
    ),
    session.admin.realms.getKeys({ realm }).then(
      (k) => void (obs.activeKid = k.active?.RS256),
      (e: unknown) => problem(`keys: ${clusterError(session.name, "reading keys", e).message}`),
    ),
  ]);

  const jobs: Array<{ clientId: string; id: string; scope: string }> = [];
  for (const client of desired.clients) {
    const live = planned.live.clients.find((c) => c.clientId === client.clientId);
    if (!live) continue; // reported as drift
    for (const scope of client.optionalClientScopes) jobs.push({ clientId: client.clientId, id: live.id, scope });
  }
  const userIds = new Map<string, Promise<string>>();
  const results = await settleAll(jobs, opts.concurrency, async (job) => {
    let userId = userIds.get(job.id);
    if (!userId) {
      userId = session.admin.clients.getServiceAccountUser({ realm, id: job.id }).then((u) => u.id ?? "");
      userIds.set(job.id, userId);
    }
    const payload = await session.admin.clients.evaluateGenerateAccessToken({
      realm,
      id: job.id,
      userId: await userId,
      scope: job.scope,
      audience: "",
    });
    obs.examples.set(`${job.clientId} ${job.scope}`, payload);
  });
  results.forEach((r, i) => {
    if (r.status === "rejected")
      problem(`example token for ${jobs[i]!.clientId} (${jobs[i]!.scope}): ${clusterError(session.name, "evaluating", r.reason).message}`);
  });
  return obs;
}

/** Findings comparing every cluster with the config and with each other. Pure given the observations. */
export function coherenceFindings(desired: DesiredState, observations: readonly ClusterObservation[]): Finding[] {
  const findings: Finding[] = observations.flatMap((o) => o.findings);
  const activeKid = desired.keys.find((k) => k.active)?.kid;
  const wantKids = desired.keys.map((k) => k.kid).sort();

  for (const o of observations) {
    if (o.issuer !== undefined && o.issuer !== desired.issuer)
      findings.push({ type: "incoherent", cluster: o.cluster, message: `discovery issuer is ${o.issuer}, expected ${desired.issuer}` });
    if (o.jwks) {
      const kids = (o.jwks.keys ?? []).map((k) => String(k.kid)).sort();
      if (kids.join(" ") !== wantKids.join(" "))
        findings.push({
          type: "incoherent",
          cluster: o.cluster,
          message: `JWKS publishes kids [${kids.join(", ")}], expected [${wantKids.join(", ")}]`,
        });
    }
    if (o.activeKid !== undefined && o.activeKid !== activeKid)
      findings.push({ type: "incoherent", cluster: o.cluster, message: `signs with kid ${o.activeKid}, expected ${activeKid}` });
    if (o.jwks) findings.push(...jwksFindings(o.cluster, desired, o.jwks));
  }

  findings.push(
    ...sameEverywhere(
      "discovery issuer",
      observations.filter((o) => o.issuer !== undefined).map((o) => ({ cluster: o.cluster, value: o.issuer })),
    ),
  );
  findings.push(
    ...sameEverywhere(
      "JWKS",
      observations.filter((o) => o.jwks).map((o) => ({ cluster: o.cluster, value: JSON.parse(canonicalJwks(o.jwks!)) as unknown })),
      () => "(different key sets)",
    ),
  );
  findings.push(
    ...sameEverywhere(
      "active signing kid",
      observations.filter((o) => o.activeKid).map((o) => ({ cluster: o.cluster, value: o.activeKid })),
    ),
  );

  for (const client of desired.clients) {
    for (const scope of client.optionalClientScopes) {
      const key = `${client.clientId} ${scope}`;
      const expected = expectedClaims(desired, client, scope);
      const seen: Array<{ cluster: string; value: unknown }> = [];
      for (const o of observations) {
        const payload = o.examples.get(key);
        if (!payload) continue;
        findings.push(...claimFindings(o.cluster, `client ${client.clientId} token (scope ${scope})`, expected, payload));
        seen.push({ cluster: o.cluster, value: observedClaims(payload) });
      }
      findings.push(...sameEverywhere(`client ${client.clientId} token claims (scope ${scope})`, seen));
    }
  }
  return findings;
}

export interface CheckOutcome {
  planned: PlannedCluster[];
  failed: ClusterFailure[];
  /** Drift findings (one per drifted cluster) and coherence findings. */
  findings: Finding[];
}

/** Drift and coherence across every target. A cluster that cannot be reached is a failure; the others are still checked. */
export async function checkAll(
  targets: readonly ClusterTarget[],
  desired: DesiredState,
  opts: { concurrency: number; fetch?: typeof fetch },
): Promise<CheckOutcome> {
  const results = await Promise.allSettled(
    targets.map(async (t) => {
      const session = await openSession(t, opts.fetch ? { fetch: opts.fetch } : {});
      const planned = await planCluster(session, desired);
      const observation = await observeCluster(session, planned, desired, opts);
      return { planned, observation };
    }),
  );
  const planned: PlannedCluster[] = [];
  const observations: ClusterObservation[] = [];
  const failed: ClusterFailure[] = [];
  results.forEach((r, i) => {
    const t = targets[i]!;
    if (r.status === "fulfilled") {
      planned.push(r.value.planned);
      observations.push(r.value.observation);
    } else {
      failed.push({ cluster: t.name, url: t.adminUrl, error: clusterError(t.name, "checking", r.reason) });
    }
  });
  const findings: Finding[] = planned
    .filter((p) => p.plan.changes.length > 0)
    .map((p) => ({
      type: "drift",
      cluster: p.cluster,
      message: `live state differs from the config: ${p.plan.changes.length} change(s) pending (run plan for the fields)`,
    }));
  findings.push(...coherenceFindings(desired, observations));
  return { planned, failed, findings };
}
