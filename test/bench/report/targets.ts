/**
 * Targets of the benchmark figures and their evaluation: every figure is a ratio against a
 * baseline measured in the same run, or a count, and is marked PASS or MISS. A MISS never fails
 * the process (only a crash does). Pure.
 */

/** `≥ value`, `> value`, `≤ value`, `< value` or `= value`. */
export type Target = { op: ">=" | ">" | "<=" | "<" | "="; value: number; unit?: string };

export type Status = "PASS" | "MISS" | "ERROR" | "SKIPPED";

export const atLeast = (value: number, unit?: string): Target => ({ op: ">=", value, ...(unit && { unit }) });
export const below = (value: number, unit?: string): Target => ({ op: "<", value, ...(unit && { unit }) });
export const atMost = (value: number, unit?: string): Target => ({ op: "<=", value, ...(unit && { unit }) });
export const exactly = (value: number, unit?: string): Target => ({ op: "=", value, ...(unit && { unit }) });

/** Whether `measured` meets `target`; a non-finite measurement never does. */
export function meets(measured: number, target: Target): boolean {
  if (!Number.isFinite(measured)) return false;
  switch (target.op) {
    case ">=":
      return measured >= target.value;
    case ">":
      return measured > target.value;
    case "<=":
      return measured <= target.value;
    case "<":
      return measured < target.value;
    case "=":
      return measured === target.value;
  }
}

export function statusOf(measured: number, target: Target): Status {
  return meets(measured, target) ? "PASS" : "MISS";
}

/** `subject / baseline`, `NaN` when the baseline is not a positive number. */
export function ratio(subject: number, baseline: number): number {
  return baseline > 0 && Number.isFinite(subject) ? subject / baseline : Number.NaN;
}

const SYMBOL: Record<Target["op"], string> = { ">=": "≥", ">": ">", "<=": "≤", "<": "<", "=": "=" };

/** `≥ 0.85`, `< 2 ms`, `= 1`. */
export function describeTarget(target: Target): string {
  return `${SYMBOL[target.op]} ${target.value}${target.unit ? ` ${target.unit}` : ""}`;
}
