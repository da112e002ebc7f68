/**
 * Turns zod's issues into messages an operator can act on, each at the path of the field to fix.
 *
 * Two things need care. A missing field and a wrong field read differently ("required" vs.
 * "expected a number"), so a per-parse error map rewrites messages while the raw input is still at
 * hand. And a union of strict objects ("exactly one of `env` or `file`") fails every branch: when
 * exactly one branch has the shape of the input, its own issues are reported (they are precise);
 * otherwise one issue names the accepted forms.
 */
import type { z } from "zod";
import { error, type PathIssue } from "./issues.ts";
import type { ConfigPath } from "./path.ts";

type ZodIssue = z.core.$ZodIssue;

const REQUIRED = "required";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function unionForms(inst: unknown): string | undefined {
  const options = (inst as { _zod?: { def?: { options?: Array<{ shape?: Record<string, unknown> }> } } })._zod?.def?.options;
  if (!options?.every((o) => o.shape)) return undefined;
  return options.map((o) => `{ ${Object.keys(o.shape ?? {}).join(", ")} }`).join(" | ");
}

function plural(n: number | bigint, word: string): string {
  return `${n} ${word}${n === 1 || n === 1n ? "" : "s"}`;
}

/** The per-parse error map: runs while the input is known. Schema-level messages (our regex hints) win over it. */
export const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.input === undefined && (iss.code === "invalid_type" || iss.code === "invalid_union")) return REQUIRED;
  switch (iss.code) {
    case "invalid_type":
      return `expected ${iss.expected === "int" ? "an integer" : iss.expected}, got ${describe(iss.input)}`;
    case "invalid_union": {
      const forms = unionForms(iss.inst);
      if (!forms) return undefined;
      const input = iss.input;
      const got =
        typeof input === "object" && input !== null && !Array.isArray(input) ? `{ ${Object.keys(input).join(", ")} }` : describe(input);
      return `expected exactly one of the forms ${forms}, got ${got}`;
    }
    case "invalid_value":
      return `must be ${iss.values.length === 1 ? JSON.stringify(iss.values[0]) : `one of ${iss.values.map((v) => JSON.stringify(v)).join(", ")}`}`;
    case "too_small":
      if (iss.origin === "array") return `must have at least ${plural(iss.minimum, "item")}`;
      if (iss.origin === "string") return iss.minimum === 1 ? "must not be empty" : `must be at least ${plural(iss.minimum, "character")}`;
      return `must be ≥ ${iss.minimum}, got ${String(iss.input)}`;
    case "too_big":
      if (iss.origin === "array") return `must have at most ${plural(iss.maximum, "item")}`;
      if (iss.origin === "string") return `must be at most ${plural(iss.maximum, "character")}`;
      return `must be ≤ ${iss.maximum}, got ${String(iss.input)}`;
    case "invalid_format":
      return iss.format === "url" ? `must be a URL, got ${JSON.stringify(iss.input)}` : undefined;
    default:
      return undefined;
  }
};

/** Whether a union branch fails because the input has another shape (not because a field inside is wrong). */
function shapeMismatch(issues: ZodIssue[]): boolean {
  return issues.some(
    (i) =>
      (i.path.length === 0 && (i.code === "unrecognized_keys" || i.code === "invalid_type")) ||
      (i.path.length === 1 && i.message === REQUIRED),
  );
}

function flatten(issue: ZodIssue, base: ConfigPath, out: PathIssue[]): void {
  const path = [...base, ...(issue.path as Array<string | number>)];
  switch (issue.code) {
    case "unrecognized_keys":
      for (const key of issue.keys) out.push(error([...path, key], `unknown field "${key}"`));
      return;
    case "invalid_union": {
      const fitting = issue.errors.filter((branch) => !shapeMismatch(branch));
      if (fitting.length === 1 && fitting[0]) {
        for (const inner of fitting[0]) flatten(inner, path, out);
      } else {
        out.push(error(path, issue.message));
      }
      return;
    }
    case "invalid_key":
      for (const inner of issue.issues) out.push(error(path, `key ${message(inner)}`));
      return;
    case "invalid_element":
      for (const inner of issue.issues) flatten(inner, path, out);
      return;
    default:
      out.push(error(path, message(issue)));
  }
}

/** Our regex hints are noun phrases ("a GUID"), so they read as "must be a GUID". */
function message(issue: ZodIssue): string {
  return issue.code === "invalid_format" && issue.format === "regex" ? `must be ${issue.message}` : issue.message;
}

/** Every schema issue of a failed parse, at the path of the field to fix. */
export function schemaIssues(err: z.ZodError, base: ConfigPath = []): PathIssue[] {
  const out: PathIssue[] = [];
  for (const issue of err.issues) flatten(issue, base, out);
  return out;
}
