/**
 * One line of the benchmark table, and the report as a whole. Pure.
 */
import { describeTarget, statusOf, type Status, type Target } from "./targets.ts";

export interface Row {
  /** Stable id for `--only` and machines, e.g. `1-ratio`. */
  id: string;
  /** Figure number of issue 7 (1–7), or `fuzz`. */
  figure: string;
  title: string;
  /** The number judged against the target (`NaN` when it could not be measured). */
  value: number;
  /** How the value is shown, e.g. `0.91` or `1.3 ms`. */
  shown: string;
  target?: Target;
  status: Status;
  /** What was measured and the baseline, one line each. */
  details: string[];
  /** For a MISS or an ERROR: why, e.g. the top frames of a CPU profile. */
  explanation?: string[];
}

export interface RowInput {
  id: string;
  figure: string;
  title: string;
  value: number;
  shown: string;
  target: Target;
  details?: string[];
}

/** A measured row, its status computed from the target. */
export function measuredRow(input: RowInput): Row {
  return { ...input, details: input.details ?? [], status: statusOf(input.value, input.target) };
}

/** A row whose measurement crashed: the message is shown, the run goes on. */
export function errorRow(id: string, figure: string, title: string, error: unknown, target?: Target): Row {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    id,
    figure,
    title,
    value: Number.NaN,
    shown: "—",
    ...(target && { target }),
    status: "ERROR",
    details: [],
    explanation: message.split("\n").slice(0, 12),
  };
}

export interface Environment {
  startedAt: string;
  node: string;
  cpus: number;
  cpuModel: string;
  /** 1-, 5-, 15-minute load averages at start and at end. */
  loadAverageStart: number[];
  loadAverageEnd: number[];
  keycloakVersion?: string;
  quick: boolean;
  wallSeconds: number;
}

export interface Report {
  environment: Environment;
  rows: Row[];
}

export function targetText(row: Row): string {
  return row.target ? describeTarget(row.target) : "";
}

export function counts(rows: readonly Row[]): Record<Status, number> {
  const out: Record<Status, number> = { PASS: 0, MISS: 0, ERROR: 0, SKIPPED: 0 };
  for (const r of rows) out[r.status] += 1;
  return out;
}
