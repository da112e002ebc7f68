/**
 * Figure 6: cold start to ready with Keycloak up — from spawning the production bundle
 * (`node dist/cloud-broker.mjs serve`) to `/readyz` answering 200, i.e. every target's credentials
 * fetched (Keycloak discovery + token, STS, Entra). Baseline in the same run: a bare `node:http`
 * process from spawn to its first 200 (Node's own start-up on this machine, right now).
 */
import { median } from "../report/stats.ts";
import { cpuSeconds, listeningPort, spawnNode, waitFor200 } from "../env/child.ts";
import { startBrokerProcess } from "../env/broker-process.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { below } from "../report/targets.ts";
import type { FigureContext } from "./serving.ts";

/** The floor: plain node (no tsx, no bundle) starting an http server. */
const BARE_SERVER = `require("node:http").createServer((q, s) => s.end("ok")).listen(0, "127.0.0.1", function () { console.log("listening " + this.address().port); }); process.on("SIGTERM", () => process.exit(0));`;

interface Phases {
  listeningMs: number;
  refreshes: string[];
}

/** When the broker logged `cloud-broker listening` (ms after `spawnedAt`), and each credential fetch's duration. */
function phases(stderr: string, spawnedAt: number): Phases {
  let listeningMs = Number.NaN;
  const refreshes: string[] = [];
  for (const line of stderr.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const event = JSON.parse(line) as { time?: string; msg?: string; cloud?: string; durationMs?: number };
      if (event.msg === "cloud-broker listening" && event.time) listeningMs = Date.parse(event.time) - spawnedAt;
      if (event.msg === "credentials refreshed") refreshes.push(`${event.cloud ?? "?"} ${event.durationMs ?? "?"} ms`);
    } catch {
      // not a log line
    }
  }
  return { listeningMs, refreshes };
}

export async function coldStartFigure(ctx: FigureContext): Promise<Row[]> {
  const { world, quick, log } = ctx;
  const runs = quick ? 2 : 5;
  const ready: number[] = [];
  const bare: number[] = [];
  const cpu: number[] = [];
  const notes: string[] = [];
  log(`figure 6: ${runs} cold starts of the bundle, each to /readyz 200, alternating with a bare node:http start`);
  for (let i = 0; i < runs; i++) {
    const spawnedAt = Date.now();
    const broker = await startBrokerProcess(world, { name: `cold-start-${i}` });
    ready.push(broker.readyMs);
    cpu.push(cpuSeconds(broker.child.pid));
    const p = phases(broker.child.stderr(), spawnedAt);
    notes.push(
      `run ${i + 1}: ready ${broker.readyMs.toFixed(0)} ms, ${(cpu.at(-1)! * 1000).toFixed(0)} ms of CPU (listening at ${p.listeningMs.toFixed(0)} ms; fetches ${p.refreshes.join(", ")})`,
    );
    await broker.stop();

    const started = performance.now();
    const child = spawnNode({ args: ["-e", BARE_SERVER] });
    const port = await listeningPort(child);
    await waitFor200(`http://127.0.0.1:${port}/`, child);
    bare.push(performance.now() - started);
    await child.stop();
  }
  const value = median(ready) / 1000;
  const row = measuredRow({
    id: "6-cold-start",
    figure: "6",
    title: "cold start to ready (credentials warm), median",
    value,
    shown: `${value.toFixed(2)} s`,
    target: below(1.5, "s"),
    details: [
      `${runs} starts of the production bundle with Keycloak up: ${ready.map((ms) => (ms / 1000).toFixed(2)).join(", ")} s; a bare node:http process (plain node -e) to its first 200: median ${(median(bare) / 1000).toFixed(2)} s`,
      `CPU time (user + system) of the broker from spawn to ready: median ${(median(cpu) * 1000).toFixed(0)} ms (what one pod's start costs its node; the README's sizing uses it)`,
      ...notes,
    ],
  });
  if (row.status === "MISS") {
    row.explanation = ["Where the time goes, per start (the JSON log's own timestamps):", ...notes];
  }
  return [row];
}
