/**
 * A plan as an operator reads it in a terminal or a CI log: one block per cluster, one line per
 * resource (`+` create, `~` update, `-` delete, `!` conflict, `x` foreign: left alone, must be
 * removed by hand), then one line per field.
 */
import { summarize, type Change, type ClusterPlan, type FieldChange, type FieldValue, type MapperChange } from "./changes.ts";

const SYMBOL: Record<Change["op"], string> = { create: "+", update: "~", delete: "-", conflict: "!", foreign: "x" };
const MAX_VALUE = 120;

function show(value: FieldValue | undefined): string {
  if (value === undefined) return "(unset)";
  const text = JSON.stringify(value);
  return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE - 1)}…` : text;
}

function fieldLine(f: FieldChange, indent: string): string {
  if (f.from === undefined) return `${indent}${f.path}: ${show(f.to)}`;
  if (f.to === undefined) return `${indent}${f.path}: ${show(f.from)} → (removed)`;
  return `${indent}${f.path}: ${show(f.from)} → ${show(f.to)}`;
}

function mapperLines(m: MapperChange, indent: string): string[] {
  const head = `${indent}${SYMBOL[m.op]} mapper ${m.name}`;
  if (m.op === "delete") return [head];
  return [head, ...m.fields.map((f) => fieldLine(f, `${indent}    `))];
}

function changeLines(c: Change, fields: boolean): string[] {
  const head = `  ${SYMBOL[c.op]} ${c.kind} ${c.name}`;
  if (!fields && (c.op === "create" || c.op === "update")) return [head];
  switch (c.op) {
    case "delete":
    case "conflict":
    case "foreign":
      return [`${head}  (${c.reason})`];
    case "create":
    case "update":
      return [head, ...c.fields.map((f) => fieldLine(f, "      ")), ...c.mappers.flatMap((m) => mapperLines(m, "      "))];
  }
}

/** `eu: 2 to create, 1 to update, 0 to delete` and the changes below it; `eu: in sync` when there are none. */
export function formatClusterPlan(plan: ClusterPlan, opts: { url?: string; fields?: boolean } = {}): string {
  const where = opts.url ? `${plan.cluster} (${opts.url}, realm ${plan.realm})` : `${plan.cluster} (realm ${plan.realm})`;
  if (plan.changes.length === 0) return `${where}: in sync`;
  const s = summarize(plan.changes);
  const counts = [
    `${s.create} to create`,
    `${s.update} to update`,
    `${s.delete} to delete`,
    ...(s.conflict ? [`${s.conflict} conflicting`] : []),
    ...(s.foreign ? [`${s.foreign} to remove by hand`] : []),
  ].join(", ");
  return [`${where}: ${counts}`, ...plan.changes.flatMap((c) => changeLines(c, opts.fields ?? true))].join("\n");
}
