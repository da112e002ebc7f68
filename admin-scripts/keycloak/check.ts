/**
 * `check`'s I/O: drift (the plan of every cluster) and trust-domain coherence, observed the way
 * AWS and Entra observe it, on each cluster directly (not through the shared front):
 *   - discovery `issuer` and the JWKS each cluster publishes;
 *   - a real token per cluster from the probe client (client-jwt, the assertion signed with the
 *     configured active key), verified against every cluster's JWKS;
 *   - for every workload and each of its cloud scopes, the token Keycloak would mint (the admin
 *     "generate example access token" evaluation, which runs the same mappers), plus the `kid`
 *     each cluster signs with.
 * The comparisons themselves are pure (`diff/coherence.ts`).
 */
import { randomUUID } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, importPKCS8, jwtVerify, SignJWT, type JSONWebKeySet } from "jose";
import { AWS_SCOPE } from "../../realm-config/model/conventions.ts";
import { canonicalJwks, claimFindings, expectedClaims, observedClaims, sameEverywhere, type Finding } from "../diff/coherence.ts";
import { PROBE_CLIENT_ID, PROBE_SUBJECT } from "../desired/names.ts";
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
  probe: { kid: string | undefined; payload: Record<string, unknown>; token: string } | undefined;
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

async function mintProbeToken(session: ClusterSession, desired: DesiredState, fetchImpl: typeof fetch): Promise<string> {
  const active = desired.keys.find((k) => k.active);
  if (!active) throw new Error("no active signing key in the config");
  const key = await importPKCS8(active.privateKeyPem, "RS256");
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: active.kid })
    .setIssuer(PROBE_CLIENT_ID)
    .setSubject(PROBE_CLIENT_ID)
    .setAudience(desired.issuer)
    .setIssuedAt()
    .setExpirationTime("60s")
    .setJti(randomUUID())
    .sign(key);
  const res = await fetchImpl(`${session.url}/realms/${encodeURIComponent(desired.realm.realm)}/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: PROBE_CLIENT_ID,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: AWS_SCOPE,
    }),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const json = (await res.json().catch(() => ({}))) as { access_token?: string; error?: string; error_description?: string };
  if (!res.ok || !json.access_token) throw new Error(`probe token refused: HTTP ${res.status} ${json.error ?? ""} ${json.error_description ?? ""}`.trim());
  return json.access_token;
}

function decodePayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1] ?? "";
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8")) as Record<string, unknown>;
}

/** Everything one cluster publishes and mints; problems reaching a part become findings, not exceptions. */
export async function observeCluster(session: ClusterSession, planned: PlannedCluster, desired: DesiredState, opts: { concurrency: number; fetch?: typeof fetch }): Promise<ClusterObservation> {
  const fetchImpl = opts.fetch ?? fetch;
  const realm = desired.realm.realm;
  const base = `${session.url}/realms/${encodeURIComponent(realm)}`;
  const obs: ClusterObservation = { cluster: session.name, issuer: undefined, jwks: undefined, activeKid: undefined, probe: undefined, examples: new Map(), findings: [] };
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
    mintProbeToken(session, desired, fetchImpl).then(
      (token) => void (obs.probe = { token, kid: decodeProtectedHeader(token).kid, payload: decodePayload(token) }),
      (e: Error) => problem(`probe token: ${e.message}`),
    ),
  ]);

  const jobs: Array<{ clientId: string; id: string; scope: string }> = [];
  for (const client of desired.clients) {
    if (client.clientId === PROBE_CLIENT_ID) continue;
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
    const payload = await session.admin.clients.evaluateGenerateAccessToken({ realm, id: job.id, userId: await userId, scope: job.scope, audience: "" });
    obs.examples.set(`${job.clientId} ${job.scope}`, payload);
  });
  results.forEach((r, i) => {
    if (r.status === "rejected") problem(`example token for ${jobs[i]!.clientId} (${jobs[i]!.scope}): ${clusterError(session.name, "evaluating", r.reason).message}`);
  });
  return obs;
}

/** Findings comparing every cluster with the config and with each other. Pure given the observations. */
export async function coherenceFindings(desired: DesiredState, observations: readonly ClusterObservation[]): Promise<Finding[]> {
  const findings: Finding[] = observations.flatMap((o) => o.findings);
  const activeKid = desired.keys.find((k) => k.active)?.kid;
  const wantKids = desired.keys.map((k) => k.kid).sort();

  for (const o of observations) {
    if (o.issuer !== undefined && o.issuer !== desired.issuer) findings.push({ type: "incoherent", cluster: o.cluster, message: `discovery issuer is ${o.issuer}, expected ${desired.issuer}` });
    if (o.jwks) {
      const kids = (o.jwks.keys ?? []).map((k) => String(k.kid)).sort();
      if (kids.join(" ") !== wantKids.join(" ")) findings.push({ type: "incoherent", cluster: o.cluster, message: `JWKS publishes kids [${kids.join(", ")}], expected [${wantKids.join(", ")}]` });
    }
    if (o.activeKid !== undefined && o.activeKid !== activeKid) findings.push({ type: "incoherent", cluster: o.cluster, message: `signs with kid ${o.activeKid}, expected ${activeKid}` });
    if (o.probe) {
      if (o.probe.kid !== activeKid) findings.push({ type: "incoherent", cluster: o.cluster, message: `probe token kid is ${o.probe.kid}, expected ${activeKid}` });
      findings.push(...claimFindings(o.cluster, "probe token", { iss: desired.issuer, sub: PROBE_SUBJECT, aud: "sts.amazonaws.com", tags: undefined }, o.probe.payload));
      // A token from one cluster must verify with the keys every other cluster publishes (and with the configured issuer).
      for (const other of observations) {
        if (!other.jwks) continue;
        try {
          await jwtVerify(o.probe.token, createLocalJWKSet(other.jwks), { issuer: desired.issuer, algorithms: ["RS256"] });
        } catch (e) {
          findings.push({ type: "incoherent", cluster: o.cluster, message: `probe token from ${o.cluster} does not verify with ${other.cluster}'s JWKS: ${(e as Error).message}` });
        }
      }
    }
  }

  findings.push(...sameEverywhere("discovery issuer", observations.filter((o) => o.issuer !== undefined).map((o) => ({ cluster: o.cluster, value: o.issuer }))));
  findings.push(...sameEverywhere("JWKS", observations.filter((o) => o.jwks).map((o) => ({ cluster: o.cluster, value: JSON.parse(canonicalJwks(o.jwks!)) as unknown })), () => "(different key sets)"));
  findings.push(...sameEverywhere("active signing kid", observations.filter((o) => o.activeKid).map((o) => ({ cluster: o.cluster, value: o.activeKid }))));
  findings.push(...sameEverywhere("probe token kid", observations.filter((o) => o.probe).map((o) => ({ cluster: o.cluster, value: o.probe!.kid }))));

  for (const client of desired.clients) {
    if (client.clientId === PROBE_CLIENT_ID) continue;
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
export async function checkAll(targets: readonly ClusterTarget[], desired: DesiredState, opts: { concurrency: number; fetch?: typeof fetch }): Promise<CheckOutcome> {
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
    .map((p) => ({ type: "drift", cluster: p.cluster, message: `live state differs from the config: ${p.plan.changes.length} change(s) pending (run plan for the fields)` }));
  findings.push(...(await coherenceFindings(desired, observations)));
  return { planned, failed, findings };
}
