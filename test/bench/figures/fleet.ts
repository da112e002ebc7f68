/**
 * Figures 8 and 9: a fleet of sidecars' credential sources against the real two-cluster trust
 * domain, started at once (8), then through an outage of both Keycloak clusters (9).
 *
 * 500 sources in 4 processes (`servers/fleet-member.ts`), each source wired as `serve` wires one:
 * its own token source, caches, timers. Keycloak grants are counted by Keycloak itself (its
 * CLIENT_LOGIN events on both clusters, with their times), STS and Entra calls by the emulators.
 *
 * Figure 8's fleet runs on the bench realm's token lifetime, so nothing but the start is counted.
 * STS and Entra already hold the issuer's keys (as they do once any pod of the trust domain has
 * exchanged a token): the start measures the fleet, not the emulators' first JWKS fetch.
 *
 * Figure 9 starts the fleet again (as pods restarted) with the workload's tokens made to live
 * 60 s (the client's `access.token.lifespan`), then stops both clusters as soon as every sidecar
 * is ready: during the outage every workload token enters its refresh window (30 s before its
 * end), then its stop window, and the sidecars stop handing them out while they retry with their
 * jittered backoff until Keycloak is back. Each cluster is taken out of the issuer front's rotation
 * before it stops and put back once it is up again with the realm's lifetime (as an operator puts a
 * restored cluster back behind the load balancer), so the recovery's grants are the fleet's re-fetches, not a 60-s token's steady
 * refreshes (1,000 tokens of 60 s would ask ~40 grants/s of a server still warming up). AWS and
 * Azure credentials (1 h) stay served through the outage.
 */
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import type { RunningTrustDomain } from "../../../deploy/local/keycloak/trust-domain.ts";
import { spawnNode, type Child } from "../env/child.ts";
import { brokerConfig, WORKLOAD, type World } from "../env/world.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { formatPerSecond, spreadOf } from "../report/spread.ts";
import { percentile } from "../report/stats.ts";
import { atMost, exactly } from "../report/targets.ts";
import { enableLoginEvents } from "./amplification.ts";
import type { FigureContext } from "./serving.ts";

const PROCESSES = 4;
const OUTAGE_TOKEN_LIFESPAN_S = 60;
/**
 * Both clusters stay stopped this long before their restart begins: by then every workload token
 * fetched before the stop is inside its refresh window (which opens half a 60-s lifetime before
 * the end); the restart itself (≥ 20 s) takes them past their stop window (15 s before the end).
 */
const OUTAGE_BEFORE_RESTART_MS = (OUTAGE_TOKEN_LIFESPAN_S / 2) * 1000;
const READY_AGAIN_WITHIN_S = 60;
const BUSIEST_SECOND_SHARE = 0.25;
/** How long a fleet may take to become ready before the figure gives up on the stragglers. */
const FIRST_READY_DEADLINE_MS = 240_000;

interface Tick {
  t: number;
  ready: number;
  expired: number;
  cpuMs: number;
  failures: Record<string, number>;
}

interface Member {
  child: Child;
  count: number;
  last: Tick | undefined;
  first: Array<number | null> | undefined;
}

interface Fleet {
  members: Member[];
  size: number;
  /** When every member was told to start (ms since epoch). */
  go: number;
}

function startMember(configFile: string, count: number): Member {
  const child = spawnNode({ args: ["--import", "tsx", "test/bench/servers/fleet-member.ts", configFile, String(count)] });
  const member: Member = { child, count, last: undefined, first: undefined };
  let buffer = "";
  child.process.stdout?.on("data", (d: Buffer) => {
    buffer += d.toString();
    let nl;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (!line.startsWith("{")) continue;
      const msg = JSON.parse(line) as Partial<Tick> & { first?: Array<number | null> };
      if (msg.first) member.first = msg.first;
      else member.last = msg as Tick;
    }
  });
  return member;
}

const loadedLine = (child: Child) =>
  new Promise<void>((resolve, reject) => {
    let out = "";
    child.process.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("loaded")) resolve();
    });
    void child.exited.then((code) => reject(new Error(`fleet member exited with ${code}: ${child.stderr().slice(-2000)}`)));
  });

/** Spawns the fleet's processes, waits until each has built its sources, then starts them all at once. */
async function startFleet(world: World, name: string, size: number): Promise<Fleet> {
  const configFile = join(world.dir, `${name}.yaml`);
  writeFileSync(configFile, stringify(brokerConfig(world, { port: 0, stateDir: join(world.dir, `${name}-state`) })), { mode: 0o600 });
  const members: Member[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++)
      members.push(startMember(configFile, Math.floor(size / PROCESSES) + (i < size % PROCESSES ? 1 : 0)));
    await Promise.all(members.map((m) => loadedLine(m.child)));
  } catch (error) {
    await stopFleet({ members, size, go: 0 });
    throw error;
  }
  const go = Date.now();
  for (const m of members) m.child.process.kill("SIGUSR2");
  return { members, size, go };
}

function stopFleet(fleet: Fleet): Promise<unknown> {
  return Promise.all(fleet.members.map((m) => m.child.stop()));
}

function assertAlive(fleet: Fleet): void {
  const dead = fleet.members.find((m) => m.child.process.exitCode !== null);
  if (dead) throw new Error(`a fleet member died: ${dead.child.stderr().slice(-2000)}`);
}

/** Milliseconds from the start to each source's first readiness (`NaN`: not within the deadline), ascending. */
async function firstReadiness(fleet: Fleet): Promise<number[]> {
  while (fleet.members.some((m) => !m.first)) {
    assertAlive(fleet);
    await sleep(250);
  }
  return fleet.members
    .flatMap((m) => m.first ?? [])
    .map((f) => f ?? Number.NaN)
    .sort((a, b) => a - b);
}

/** The latest tick of every member, once every member has reported after `since`. */
async function ticksAfter(fleet: Fleet, since: number): Promise<Tick[]> {
  while (fleet.members.some((m) => (m.last?.t ?? 0) <= since)) {
    assertAlive(fleet);
    await sleep(100);
  }
  return fleet.members.map((m) => m.last!);
}

const sum = (ticks: readonly Tick[], f: (t: Tick) => number) => ticks.reduce((s, t) => s + f(t), 0);

function failuresText(ticks: readonly Tick[]): string {
  const total: Record<string, number> = {};
  for (const t of ticks) for (const [k, n] of Object.entries(t.failures)) total[k] = (total[k] ?? 0) + n;
  const entries = Object.entries(total).sort((a, b) => b[1] - a[1]);
  return entries.length ? entries.map(([k, n]) => `${k} × ${n}`).join(", ") : "none";
}

/** CLIENT_LOGIN event times (ms) of the bench workload since `since`, both clusters. */
async function grantTimes(world: World, since: number): Promise<number[]> {
  const times: number[] = [];
  for (const c of world.domain.info.clusters) {
    const admin = await world.admin(c.name);
    const events = await admin.realms.findEvents({ realm: world.fx.realm, client: WORKLOAD, type: "CLIENT_LOGIN", max: 100_000 });
    for (const e of events) if (e.time !== undefined && e.time >= since) times.push(e.time);
  }
  return times.sort((a, b) => a - b);
}

/**
 * Sets the workload's token lifetime on one cluster (`undefined`: the realm's). Tried three times:
 * a just-restarted cluster under the fleet's load can take longer than the admin token's 60-s
 * life between sign-in and update (HTTP 401).
 */
async function setTokenLifespanOn(world: World, cluster: string, seconds: number | undefined): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await updateTokenLifespan(world, cluster, seconds);
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

async function updateTokenLifespan(world: World, cluster: string, seconds: number | undefined): Promise<void> {
  const admin = await world.admin(cluster);
  const [client] = await admin.clients.find({ realm: world.fx.realm, clientId: WORKLOAD });
  if (!client?.id) throw new Error(`no client ${WORKLOAD} on ${cluster}`);
  const attributes = { ...(client.attributes ?? {}) };
  // An attribute left out of an update is kept by Keycloak: an empty value is what unsets it.
  if (seconds === undefined) attributes["access.token.lifespan"] = "";
  else attributes["access.token.lifespan"] = String(seconds);
  await admin.clients.update({ realm: world.fx.realm, id: client.id }, { ...client, attributes });
}

const setTokenLifespan = (world: World, seconds: number | undefined) =>
  Promise.all(world.domain.info.clusters.map((c) => setTokenLifespanOn(world, c.name, seconds)));

/**
 * Why a fleet figure misses on this machine: the servers answer the fleet's calls more slowly than
 * the sidecar waits for them. A Keycloak token request the sidecar stopped waiting for stays open
 * and is claimed by its next attempt (broker/token-source/open-grants.ts): slow, but asked once.
 * The 10-s wait still bounds each attempt, so slow answers mean more backoff steps.
 */
const saturation = (calls: number) => [
  `on this 2-core machine (load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      " / ",
    )} now, shared with other Keycloak servers) two Keycloak JVMs, the issuer front and both emulators (one bench process) answer the fleet's ${calls.toLocaleString("en-US")} calls at once more slowly than the sidecar's 10-s wait (KEYCLOAK_UNAVAILABLE): each such attempt is followed by a backoff step; a Keycloak token request stays open for the next attempt (asked once), an STS or Entra call is abandoned and retried;`,
  `STS and Entra answers IDPCommunicationError / AADSTS50166 when they cannot fetch the issuer's keys in time from the saturated Keycloak: both retryable, so each is retried by the exchange (3 attempts) and then by the cache's backoff — extra calls, never an evicted credential.`,
];

const s1 = (ms: number) => (ms / 1000).toFixed(1);
const readyText = (readyMs: readonly number[]) =>
  `p50 ${s1(percentile(readyMs, 50))} s, p99 ${s1(percentile(readyMs, 99))} s, max ${s1(percentile(readyMs, 100))} s`;

/** Figure 8: the fleet starts at once; every call it makes until every sidecar is ready, counted. */
async function fleetStart(ctx: FigureContext, size: number): Promise<Row[]> {
  const { world, log } = ctx;
  const stsBefore = world.sts.calls.length;
  const entraBefore = world.entra.calls.length;
  await Promise.all([world.sts.issuerKeys.get(world.fx.issuer), world.entra.issuerKeys.get(world.fx.issuer)]);
  log(`figure 8: ${size} sidecars' credential sources in ${PROCESSES} processes start at once`);
  const fleet = await startFleet(world, "fleet-start", size);
  try {
    const readyMs = (await firstReadiness(fleet)).filter((ms) => Number.isFinite(ms));
    const ticks = await ticksAfter(fleet, Date.now());
    await sleep(1_000); // events are stored with the request: a moment for the last ones
    const grants = (await grantTimes(world, fleet.go - 1_000)).length;
    const stsCalls = world.sts.calls.slice(stsBefore).filter((c) => c.action === "AssumeRoleWithWebIdentity");
    const entraCalls = world.entra.calls.slice(entraBefore);
    const sts = stsCalls.length;
    const entra = entraCalls.length;
    const failedCloud = stsCalls.filter((c) => c.status !== 200).length + entraCalls.filter((c) => c.status !== 200).length;
    const cpuMs = sum(ticks, (t) => t.cpuMs);
    log(
      `figure 8: ${readyMs.length} of ${size} ready, p99 ${s1(percentile(readyMs, 99))} s; ${grants} grants, ${sts} STS, ${entra} Entra calls`,
    );
    const perSidecar = (n: number) => (n / size).toFixed(2);
    const startDetails = [
      `time to ready (every AWS and Azure credential and both workload tokens held) from the common start: ${readyText(readyMs)} — reported, not judged: it is how long this machine's two Keycloak servers and the emulators take to answer ${size} sidecars at once`,
      `upstream calls until every sidecar was ready: ${grants} Keycloak grants (CLIENT_LOGIN events, both clusters), ${sts} STS AssumeRoleWithWebIdentity, ${entra} Entra token requests (${failedCloud} of the cloud calls refused) — per sidecar ${perSidecar(grants)} / ${perSidecar(sts)} / ${perSidecar(entra)}`,
      `failed fetches seen by the sidecars (each retried with the backoff): ${failuresText(ticks)}`,
      `CPU of the fleet's processes from the start until every sidecar was ready: ${(cpuMs / 1000).toFixed(1)} s, ${(cpuMs / size).toFixed(1)} ms per sidecar (including the bench's probes of every credential every 500 ms)`,
      `${size} sources in ${PROCESSES} node processes on this 2-core machine, each source its own token source, caches and timers (as ${size} pods); one AWS role, one Azure identity, 2 token audiences each; workload tokens live as the bench realm says (12 h)`,
    ];
    const rows = [
      measuredRow({
        id: "8-ready",
        figure: "8",
        title: `fleet start: sidecars ready of ${size} started at once (p99 ${s1(percentile(readyMs, 99))} s)`,
        value: readyMs.length,
        shown: String(readyMs.length),
        target: exactly(size),
        details: startDetails,
      }),
      measuredRow({
        id: "8-keycloak",
        figure: "8",
        title: "fleet start: Keycloak grants per sidecar (one per audience)",
        value: grants / size,
        shown: perSidecar(grants),
        target: atMost(2),
      }),
      measuredRow({
        id: "8-clouds",
        figure: "8",
        title: "fleet start: STS + Entra calls per sidecar (one per target)",
        value: (sts + entra) / size,
        shown: perSidecar(sts + entra),
        target: atMost(2),
      }),
    ];
    for (const row of rows.filter((r) => r.status === "MISS"))
      row.explanation = [...saturation(size * 4), `what the sidecars saw: ${failuresText(ticks)}`];
    return rows;
  } finally {
    await stopFleet(fleet);
  }
}

/** Polls the issuer's discovery until it answers 200; returns when it did (ms since epoch). */
async function issuerAnswers(world: World): Promise<number> {
  for (;;) {
    const status = await fetch(`${world.fx.issuer}/.well-known/openid-configuration`).then(
      (r) => (void r.body?.cancel(), r.status),
      () => 0,
    );
    if (status === 200) return Date.now();
    await sleep(200);
  }
}

/** Figure 9: the fleet, ready on 60-s workload tokens, through an outage of both clusters. */
async function fleetOutage(ctx: FigureContext, size: number): Promise<Row[]> {
  const { world, log } = ctx;
  const control = world.domain as Partial<RunningTrustDomain>;
  if (!control.stopCluster || !control.restartCluster || !control.front)
    throw new Error("figure 9 needs the trust domain the bench started (stop/restart, the issuer front)");
  const front = control.front;
  await setTokenLifespan(world, OUTAGE_TOKEN_LIFESPAN_S);
  let fleet: Fleet | undefined;
  try {
    log(`figure 9: the fleet starts again with ${OUTAGE_TOKEN_LIFESPAN_S}-s workload tokens`);
    fleet = await startFleet(world, "fleet-outage", size);
    const startMs = await firstReadiness(fleet);
    if (!startMs.every((ms) => Number.isFinite(ms)))
      throw new Error(
        `figure 9: ${startMs.filter((ms) => !Number.isFinite(ms)).length} of ${size} sidecars never became ready before the outage`,
      );
    const clusters = world.domain.info.clusters.map((c) => c.name);
    log(`figure 9: every sidecar ready (p99 ${s1(percentile(startMs, 99))} s); stopping ${clusters.join(" and ")}`);
    for (const c of clusters) front.setInRotation(c, false);
    await Promise.all(clusters.map((c) => control.stopCluster!(c)));
    const down = Date.now();
    await sleep(OUTAGE_BEFORE_RESTART_MS);
    log(`figure 9: restarting ${clusters.join(" and ")} after ${OUTAGE_BEFORE_RESTART_MS / 1000} s down`);
    const restarted = Promise.all(
      clusters.map(async (c) => {
        await control.restartCluster!(c);
        await setTokenLifespanOn(world, c, undefined);
        front.setInRotation(c, true);
      }),
    );
    const back = await issuerAnswers(world);
    const atReturn = await ticksAfter(fleet, back);
    log(
      `figure 9: Keycloak answers again ${s1(back - down)} s after the stop; ${sum(atReturn, (t) => t.ready)} of ${size} sidecars ready then`,
    );
    let allReady = Number.NaN;
    const deadline = back + FIRST_READY_DEADLINE_MS;
    while (Date.now() < deadline) {
      assertAlive(fleet);
      const fresh = fleet.members.every((m) => (m.last?.t ?? 0) > back);
      if (fresh && fleet.members.every((m) => m.last?.ready === m.count)) {
        allReady = Math.max(...fleet.members.map((m) => m.last!.t));
        break;
      }
      await sleep(250);
    }
    await restarted;
    const ticks = await ticksAfter(fleet, Date.now());
    const expired = sum(ticks, (t) => t.expired);
    const recovery = spreadOf(await grantTimes(world, back), back, Number.isFinite(allReady) ? allReady : deadline);
    const recoveredS = (allReady - back) / 1000;
    log(
      `figure 9: every sidecar ready again ${Number.isFinite(recoveredS) ? `${recoveredS.toFixed(1)} s` : "never"} after the return; ${recovery.total} grants, busiest second ${recovery.busiest}`,
    );
    const expiredRow = measuredRow({
      id: "9-expired",
      figure: "9",
      title: "fleet outage: expired credentials handed out (any sidecar, any credential)",
      value: expired,
      shown: String(expired),
      target: exactly(0),
      details: [
        `the fleet started again on ${OUTAGE_TOKEN_LIFESPAN_S}-s workload tokens (every sidecar ready in ${readyText(startMs)}), then both clusters were stopped: down ${s1(back - down)} s (${OUTAGE_BEFORE_RESTART_MS / 1000} s, then the restart until the issuer answered); each cluster was taken out of the issuer front's rotation before the stop and put back once up again with the realm's 12-h tokens; AWS/Azure credentials live 1 h`,
        `during the outage every workload token entered its refresh window (the last ${OUTAGE_TOKEN_LIFESPAN_S / 2} s of its life) and its stop window (the last ${OUTAGE_TOKEN_LIFESPAN_S / 4} s); ${sum(atReturn, (t) => t.ready)} of ${size} sidecars were ready at Keycloak's return`,
        `every credential each sidecar handed out was checked against the wall clock every 500 ms, from the start to the end of the recovery`,
        `failed fetches seen by the sidecars since their start: ${failuresText(ticks)}`,
      ],
    });
    const recoveredRow = measuredRow({
      id: "9-recovered",
      figure: "9",
      title: "fleet outage: seconds from Keycloak's return until every sidecar is ready again",
      value: recoveredS,
      shown: Number.isFinite(recoveredS) ? recoveredS.toFixed(1) : "never",
      target: atMost(READY_AGAIN_WITHIN_S, "s"),
      details: [
        `return = the issuer's discovery answering 200 again; ready = every AWS and Azure credential and both workload tokens servable (sampled every 500 ms); the backoff is 1 s doubling to 30 s, half fixed and half random (broker/cache/policy.ts): every sidecar's next attempt comes within 30 s of the return`,
      ],
    });
    if (recoveredRow.status === "MISS") {
      recoveredRow.explanation = [
        `${recovery.total} grants were counted until every sidecar was ready, for ${size * 2} workload tokens; the restarted servers (cold JVMs) answered the fleet more slowly than the sidecars' 10-s wait, so many needed further backoff steps (up to 30 s each).`,
        ...saturation(size * 2),
      ];
    }
    return [
      expiredRow,
      recoveredRow,
      measuredRow({
        id: "9-spread",
        figure: "9",
        title: "fleet outage: busiest second's share of the recovery's Keycloak grants",
        value: recovery.busiestShare,
        shown: Number.isFinite(recovery.busiestShare) ? recovery.busiestShare.toFixed(2) : "?",
        target: atMost(BUSIEST_SECOND_SHARE),
        details: [
          `${recovery.total} grants from the return until every sidecar was ready (busiest second ${recovery.busiest}), per second since the return: ${formatPerSecond(recovery.perSecond)}`,
        ],
      }),
    ];
  } finally {
    if (fleet) await stopFleet(fleet);
    for (const c of world.domain.info.clusters) front.setInRotation(c.name, true);
    await setTokenLifespan(world, undefined).catch((error: unknown) =>
      log(`figure 9: could not restore the token lifespan: ${(error as Error).message}`),
    );
  }
}

export async function fleetFigures(ctx: FigureContext): Promise<Row[]> {
  const size = ctx.quick ? 100 : 500;
  await enableLoginEvents(ctx.world);
  const rows: Row[] = [];
  if (ctx.wants("8")) rows.push(...(await fleetStart(ctx, size)));
  if (ctx.wants("9")) rows.push(...(await fleetOutage(ctx, size)));
  return rows;
}
