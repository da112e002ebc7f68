/**
 * `npm run bench`: starts its own local trust domain, the strict cloud emulators and the broker,
 * measures every figure of issue 7 against a baseline measured in the same run (or counts), and
 * prints one row per figure with its target and PASS/MISS. A MISS never fails the run; only a crash
 * does (exit 1). `--json` prints the report as JSON on stdout (progress on stderr).
 */
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { BenchUsageError, parseBenchArgs, USAGE, wants, type BenchOptions, type Figure } from "./args.ts";
import { startWorld, type World } from "./env/world.ts";
import { formatJson, formatTable, selectRows } from "./report/format.ts";
import { errorRow, type Report, type Row } from "./report/rows.ts";
import type { FigureContext } from "./figures/serving.ts";
import { ensureLocalPki, caTrustEnv } from "../../deploy/local/pki/local-pki.ts";

/** A group of figures measured together (they share a setup), the rows it yields. */
interface Group {
  figures: Figure[];
  name: string;
  run(ctx: FigureContext): Promise<Row[]>;
}

const GROUPS: Group[] = [
  {
    figures: ["1", "2", "5"],
    name: "serving (figures 1, 2, 5)",
    run: async (ctx) => (await import("./figures/serving.ts")).servingFigures(ctx),
  },
  { figures: ["5"], name: "memory at rest (figure 5)", run: async (ctx) => (await import("./figures/memory.ts")).memoryFigure(ctx) },
  { figures: ["3"], name: "agent token exchange (figure 3)", run: async (ctx) => (await import("./figures/agents.ts")).agentsFigure(ctx) },
  {
    figures: ["4"],
    name: "upstream amplification (figure 4)",
    run: async (ctx) => (await import("./figures/amplification.ts")).amplificationFigure(ctx),
  },
  { figures: ["6"], name: "cold start (figure 6)", run: async (ctx) => (await import("./figures/cold-start.ts")).coldStartFigure(ctx) },
  {
    figures: ["7"],
    name: "realm-sync at 500 workloads (figure 7)",
    run: async (ctx) => (await import("./figures/realm-sync.ts")).realmSyncFigure(ctx),
  },
  {
    figures: ["8", "9"],
    name: "a fleet starting and recovering (figures 8, 9)",
    run: async (ctx) => (await import("./figures/fleet.ts")).fleetFigures(ctx),
  },
  {
    figures: ["pods"],
    name: "per-pod identity in Keycloak (figure pods)",
    run: async (ctx) => (await import("./figures/pod-identity.ts")).podIdentityFigure(ctx),
  },
  { figures: ["fuzz"], name: "security fuzz", run: async (ctx) => (await import("./figures/fuzz.ts")).fuzzFigure(ctx) },
];

const log = (line: string) => console.error(`bench: ${line}`);

/**
 * Node reads NODE_EXTRA_CA_CERTS only at start-up, and the local CA may not exist yet: make sure it
 * does, then run the bench in a child that trusts it (as the integration setup does for workers).
 */
async function reexecTrustingLocalCa(): Promise<number> {
  const env = { ...process.env, ...caTrustEnv(await ensureLocalPki()), KCB_BENCH_TRUSTED: "1" };
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: "inherit", env });
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  return new Promise((resolve) => child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

async function bench(options: BenchOptions): Promise<Report> {
  const started = Date.now();
  const loadAverageStart = loadavg();
  const rows: Row[] = [];
  const groups = GROUPS.filter((g) => wants(options, ...g.figures));
  let world: World | undefined;
  try {
    world = await startWorld(log);
    for (const group of groups) {
      log(`— ${group.name}`);
      const ctx: FigureContext = { world, quick: options.quick, log, wants: (f) => wants(options, f as Figure) };
      try {
        rows.push(...(await group.run(ctx)));
      } catch (error) {
        log(`${group.name} crashed: ${(error as Error).stack ?? String(error)}`);
        rows.push(...group.figures.filter((f) => wants(options, f)).map((f) => errorRow(`${f}-error`, f, group.name, error)));
      }
    }
  } finally {
    await world?.stop();
  }
  return {
    rows: selectRows(rows, options.only),
    environment: {
      startedAt: new Date(started).toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? "unknown",
      loadAverageStart,
      loadAverageEnd: loadavg(),
      ...(world && { keycloakVersion: world.domain.info.keycloakVersion }),
      quick: options.quick,
      wallSeconds: (Date.now() - started) / 1000,
    },
  };
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseBenchArgs(argv);
  } catch (error) {
    if (!(error instanceof BenchUsageError)) throw error;
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options.help) {
    console.log(USAGE);
    return 0;
  }
  if (process.env.KCB_BENCH_TRUSTED !== "1") return reexecTrustingLocalCa();
  const report = await bench(options);
  process.stdout.write(options.json ? formatJson(report) : `\n${formatTable(report)}`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`bench: crashed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
