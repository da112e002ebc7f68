/**
 * The benchmark table for a person, and the JSON for machines. Pure.
 */
import { counts, targetText, type Report, type Row } from "./rows.ts";

function pad(text: string, width: number): string {
  const length = [...text].length;
  return length >= width ? text : text + " ".repeat(width - length);
}

const loads = (l: readonly number[]) => l.map((x) => x.toFixed(2)).join(" ");

/**
 * The table: one line per row (figure, what, measured, target, PASS/MISS), its details indented
 * below, then every explanation of a MISS or ERROR, then the environment (load average included:
 * the machine is shared).
 */
export function formatTable(report: Report): string {
  const { rows, environment: env } = report;
  const header = ["#", "figure", "measured", "target", "result"];
  const cells = rows.map((r) => [r.figure, r.title, r.shown, targetText(r), r.status]);
  const widths = header.map((h, i) => Math.max([...h].length, ...cells.map((c) => [...(c[i] ?? "")].length)));
  const line = (c: string[]) =>
    c
      .map((x, i) => pad(x, widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  const out: string[] = [line(header), widths.map((w) => "─".repeat(w)).join("  ")];
  rows.forEach((r, i) => {
    out.push(line(cells[i] ?? []));
    for (const d of r.details) out.push(`${" ".repeat((widths[0] ?? 1) + 2)}· ${d}`);
  });
  const explained = rows.filter((r) => r.explanation?.length);
  if (explained.length) {
    out.push("", "Why the misses and errors:");
    for (const r of explained) {
      out.push(`  [${r.status}] ${r.figure} ${r.title}`);
      for (const e of r.explanation ?? []) out.push(`      ${e}`);
    }
  }
  const c = counts(rows);
  out.push(
    "",
    `${c.PASS} pass, ${c.MISS} miss, ${c.ERROR} error${c.SKIPPED ? `, ${c.SKIPPED} skipped` : ""} · wall ${env.wallSeconds.toFixed(0)} s${env.quick ? " · --quick (short runs: indicative only)" : ""}`,
    `node ${env.node} · ${env.cpus} × ${env.cpuModel}${env.keycloakVersion ? ` · Keycloak ${env.keycloakVersion}` : ""}`,
    `load average (1/5/15 min) at start ${loads(env.loadAverageStart)}, at end ${loads(env.loadAverageEnd)} — the machine is shared: ratios are against baselines measured in the same run`,
  );
  return `${out.join("\n")}\n`;
}

/** The report as JSON; non-finite numbers become `null`. */
export function formatJson(report: Report): string {
  return `${JSON.stringify(report, (_key, value: unknown) => (typeof value === "number" && !Number.isFinite(value) ? null : value), 2)}\n`;
}

/** Rows selected by `--only` (ids or figure numbers); all when `only` is undefined. */
export function selectRows(rows: readonly Row[], only: ReadonlySet<string> | undefined): Row[] {
  return only ? rows.filter((r) => only.has(r.id) || only.has(r.figure)) : [...rows];
}
