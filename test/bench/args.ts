/**
 * `npm run bench -- [--json] [--only <figures>] [--quick]`: argv → options. Pure.
 */
import { parseArgs } from "node:util";

/** The figures of issue 7, plus the long security fuzz run. */
export const FIGURES = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "pods", "fuzz"] as const;
export type Figure = (typeof FIGURES)[number];

export interface BenchOptions {
  json: boolean;
  quick: boolean;
  help: boolean;
  /** Figures to run; all when undefined. */
  only: ReadonlySet<Figure> | undefined;
}

export class BenchUsageError extends Error {
  override readonly name = "BenchUsageError";
}

export const USAGE = `usage: npm run bench [-- --json] [-- --only <figures>] [-- --quick]

Starts its own local trust domain (two real Keycloak clusters), the strict STS/Entra emulators and
the broker, and prints one row per figure of issue 7 with its target and PASS/MISS.

  --json            the report as JSON on stdout (progress goes to stderr)
  --only <figures>  comma-separated subset of ${FIGURES.join(",")} (repeatable); e.g. --only 1,2,5
  --quick           short runs for a smoke test: the figures are indicative only
  -h, --help

Figures: 1 AWS container credentials vs bare node:http · 2 Azure App Service vs bare node:http ·
3 agent token exchange vs bare jose verification · 4 upstream amplification (counts) ·
5 broker memory at rest, at start and under load vs bare node:http · 6 cold start to ready ·
7 realm-sync at 500 workloads · 8 a fleet of 500 sidecars starting at once · 9 the fleet through
an outage of both Keycloak clusters ·
pods: client-credentials grants/s with the Keycloak extension vs Keycloak's kubernetes provider ·
fuzz: property-based requests against every endpoint (no 5xx, no credential for an invalid request).

Exit codes: 0 the bench ran (whatever PASS/MISS says), 1 it crashed, 2 usage.`;

/** @throws BenchUsageError */
export function parseBenchArgs(argv: readonly string[]): BenchOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: "boolean", default: false },
        quick: { type: "boolean", default: false },
        only: { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new BenchUsageError((error as Error).message);
  }
  let only: Set<Figure> | undefined;
  if (values.only) {
    only = new Set();
    for (const item of values.only.flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase())) {
      if (item === "") continue;
      if (!(FIGURES as readonly string[]).includes(item))
        throw new BenchUsageError(`unknown figure "${item}" (known: ${FIGURES.join(", ")})`);
      only.add(item as Figure);
    }
    if (only.size === 0) throw new BenchUsageError("--only needs at least one figure");
  }
  return { json: values.json, quick: values.quick, help: values.help, only };
}

/** Whether any of `figures` is selected. */
export function wants(options: Pick<BenchOptions, "only">, ...figures: Figure[]): boolean {
  return !options.only || figures.some((f) => options.only?.has(f));
}
