/**
 * Figures 8 and 9: a fleet of sidecars' credential sources against the real two-cluster trust
 * domain, started at once (8), then through an outage of both Keycloak clusters (9).
 *
 * 500 sources in 4 processes (`servers/fleet-member.ts`), each source wired as `serve` wires one:
 * its own token source, caches, timers. Keycloak grants are counted by Keycloak itself (its
 * CLIENT_LOGIN events on both clusters, with their times), STS and Entra calls by the emulators.
 *
 * For the outage the workload's tokens are made to live 60 s (the client's
 * `access.token.lifespan`, restored afterwards) so that, while both clusters are down, every
 * sidecar's workload tokens go through their refresh window and past their end: the sidecars stop
 * handing them out (and so are not ready) and retry with their jittered backoff until Keycloak is
 * back. AWS and Azure credentials (1 h) stay served through the outage.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stringify } from "yaml";
import type { RunningTrustDomain } from "../../../deploy/local/keycloak/trust-domain.ts";
import { spawnNode, type Child } from "../env/child.ts";
import { brokerConfig, WORKLOAD, type World } from "../env/world.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { atMost, exactly } from "../report/targets.ts";
import { enableLoginEvents } from "./amplification.ts";
import type { FigureContext } from "./serving.ts";

const PROCESSES = 4;
const OUTAGE_TOKEN_LIFESPAN_S = 60;
/** Down this long after both clusters stopped: every 60-s workload token is past its end by then. */
const OUTAGE_MS = 75_000;
const READY_AGAIN_WITHIN_S = 60;

interface Tick {
  t: number;
  ready: number;
  expired: number;
}

interface Member {
  child: Child;
  count: number;
  last: Tick | undefined;
  first: Array<number | null> | undefined;
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

async function setTokenLifespan(world: World, seconds: number | undefined): Promise<void> {
  for (const c of world.domain.info.clusters) {
    const admin = await world.admin(c.name);
    const [client] = await admin.clients.find({ realm: world.fx.realm, clientId: WORKLOAD });
    if (!client?.id) throw new Error(`no client ${WORKLOAD} on ${c.name}`);
    const attributes = { ...(client.attributes ?? {}) };
    if (seconds === undefined) delete attributes["access.token.lifespan"];
    else attributes["access.token.lifespan"] = String(seconds);
    await admin.clients.update({ realm: world.fx.realm, id: client.id }, { ...client, attributes });
  }
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

export async function fleetFigures(ctx: FigureContext): Promise<Row[]> {
  const { world, log } = ctx;
  const control = world.domain as Partial<RunningTrustDomain>;
  const size = ctx.quick ? 100 : 500;
  const rows: Row[] = [];
  await enableLoginEvents(world);
  await setTokenLifespan(world, OUTAGE_TOKEN_LIFESPAN_S);
  const configFile = join(world.dir, "fleet.yaml");
  writeFileSync(configFile, stringify(brokerConfig(world, { port: 0, stateDir: join(world.dir, "fleet-state") })), { mode: 0o600 });
  const members: Member[] = [];
  try {
    for (let i = 0; i < PROCESSES; i++) members.push(startMember(configFile, Math.floor(size / PROCESSES) + (i < size % PROCESSES ? 1 : 0)));
    await Promise.all(members.map((m) => loadedLine(m.child)));
    const stsBefore = world.sts.calls.length;
    const entraBefore = world.entra.calls.length;
    const go = Date.now();
    log(`figure 8: ${size} sidecars' credential sources in ${PROCESSES} processes start at once`);
    for (const m of members) m.child.process.kill("SIGUSR2");
    while (members.some((m) => !m.first)) {
      if (members.some((m) => m.child.process.exitCode !== null)) throw new Error(`a fleet member died: ${members.map((m) => m.child.stderr().slice(-1500)).join("\n")}`);
      await sleep(250);
    }
    const firsts = members.flatMap((m) => m.first ?? []);
    const readyMs = firsts.filter((f): f is number => f !== null).sort((a, b) => a - b);
    const grants = (await grantTimes(world, go - 1000)).length;
    const sts = world.sts.calls.slice(stsBefore).filter((c) => c.action === "AssumeRoleWithWebIdentity").length;
    const entra = world.entra.calls.slice(entraBefore).length;
    const startDetails = [
      `time to ready (every AWS and Azure credential and both workload tokens held) from the common start: p50 ${(percentile(readyMs, 50) / 1000).toFixed(1)} s, p99 ${(percentile(readyMs, 99) / 1000).toFixed(1)} s, max ${(percentile(readyMs, 100) / 1000).toFixed(1)} s`,
      `upstream calls: ${grants} Keycloak grants (CLIENT_LOGIN events, both clusters), ${sts} STS AssumeRoleWithWebIdentity, ${entra} Entra token requests — per sidecar ${(grants / size).toFixed(2)} / ${(sts / size).toFixed(2)} / ${(entra / size).toFixed(2)}`,
      `${size} sources in ${PROCESSES} node processes on this 2-core machine, each source its own token source, caches and timers (as ${size} pods); one AWS role, one Azure identity, 2 token audiences each`,
    ];
    rows.push(
      measuredRow({ id: "8-ready", figure: "8", title: `fleet start: sidecars ready of ${size} started at once`, value: readyMs.length, shown: String(readyMs.length), target: exactly(size), details: startDetails }),
      measuredRow({ id: "8-keycloak", figure: "8", title: "fleet start: Keycloak grants per sidecar (one per audience)", value: grants / size, shown: (grants / size).toFixed(2), target: atMost(2), details: [] }),
      measuredRow({ id: "8-clouds", figure: "8", title: "fleet start: STS + Entra calls per sidecar (one each)", value: (sts + entra) / size, shown: ((sts + entra) / size).toFixed(2), target: atMost(2), details: [] }),
    );

    if (!control.stopCluster || !control.restartCluster) throw new Error("figure 9 needs the trust domain the bench started (stop/restart)");
    // Let every source's 60-s workload tokens turn over once, then take both clusters down.
    await sleep(OUTAGE_TOKEN_LIFESPAN_S * 1000);
    const clusters = world.domain.info.clusters.map((c) => c.name);
    log(`figure 9: stopping ${clusters.join(" and ")} for ${OUTAGE_MS / 1000} s`);
    await Promise.all(clusters.map((c) => control.stopCluster!(c)));
    const down = Date.now();
    await sleep(OUTAGE_MS);
    const readyInOutage = members.reduce((s, m) => s + (m.last?.ready ?? 0), 0);
    log(`figure 9: ${readyInOutage} of ${size} ready at the end of the outage; restarting`);
    const restarted = Promise.all(clusters.map((c) => control.restartCluster!(c)));
    let back = 0;
    while (back === 0) {
      const status = await fetch(`${world.fx.issuer}/.well-known/openid-configuration`).then(
        (r) => (void r.body?.cancel(), r.status),
        () => 0,
      );
      if (status === 200) back = Date.now();
      else await sleep(200);
    }
    log(`figure 9: Keycloak answers again ${((back - down) / 1000).toFixed(0)} s after the stop`);
    let allReady = 0;
    const deadline = back + 180_000;
    while (Date.now() < deadline) {
      const fresh = members.every((m) => (m.last?.t ?? 0) > back);
      if (fresh && members.every((m) => m.last?.ready === m.count)) {
        allReady = Math.max(...members.map((m) => m.last!.t));
        break;
      }
      await sleep(250);
    }
    await restarted;
    await sleep(2_000);
    const expired = members.reduce((s, m) => s + (m.last?.expired ?? 0), 0);
    const recovery = await grantTimes(world, back);
    const windowEnd = allReady || deadline;
    const inWindow = recovery.filter((t) => t <= windowEnd + 5_000);
    const perSecond = new Map<number, number>();
    for (const t of inWindow) perSecond.set(Math.floor((t - back) / 1000), (perSecond.get(Math.floor((t - back) / 1000)) ?? 0) + 1);
    const busiest = Math.max(0, ...perSecond.values());
    const share = inWindow.length ? busiest / inWindow.length : Number.NaN;
    const recoveredS = allReady ? (allReady - back) / 1000 : Number.NaN;
    const histogram = [...perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}s:${n}`).join(" ");
    rows.push(
      measuredRow({
        id: "9-expired",
        figure: "9",
        title: "fleet outage: expired credentials handed out (any sidecar, any credential)",
        value: expired,
        shown: String(expired),
        target: exactly(0),
        details: [
          `both clusters down ${((back - down) / 1000).toFixed(0)} s (stopped, ${OUTAGE_MS / 1000} s, then restarted until the issuer answered); workload tokens live ${OUTAGE_TOKEN_LIFESPAN_S} s for this figure, AWS/Azure credentials 1 h; ${readyInOutage} of ${size} sidecars ready at the end of the outage`,
          `every credential each sidecar handed out was checked against the wall clock every 500 ms, from the start to the end of the recovery`,
        ],
      }),
      measuredRow({
        id: "9-recovered",
        figure: "9",
        title: "fleet outage: seconds from Keycloak's return until every sidecar is ready again",
        value: recoveredS,
        shown: Number.isFinite(recoveredS) ? recoveredS.toFixed(1) : "never",
        target: atMost(READY_AGAIN_WITHIN_S, "s"),
        details: [`return = the issuer's discovery answering 200 again; ready = every AWS and Azure credential and both workload tokens servable (sampled every 500 ms); the backoff is 1 s doubling to 30 s, half fixed and half random`],
      }),
      measuredRow({
        id: "9-spread",
        figure: "9",
        title: "fleet outage: busiest second's share of the recovery's Keycloak grants",
        value: share,
        shown: Number.isFinite(share) ? share.toFixed(2) : "?",
        target: atMost(0.25),
        details: [`${inWindow.length} grants from the return until every sidecar was ready (+5 s), per second since the return: ${histogram}`],
      }),
    );
    return rows;
  } finally {
    await Promise.all(members.map((m) => m.child.stop()));
    await setTokenLifespan(world, undefined).catch((error: unknown) => log(`figure 9: could not restore the token lifespan: ${(error as Error).message}`));
  }
}
