/**
 * A reader for the Dockerfile subset this project writes (no heredocs, no ONBUILD): instructions
 * with their line numbers, grouped into stages, plus the pieces the image steps and the lint test
 * need (COPY flags and sources, exec-form arrays, `${ARG}` substitution). Pure.
 * https://docs.docker.com/reference/dockerfile/
 */

export interface Instruction {
  /** Upper-case keyword, e.g. `COPY`. */
  keyword: string;
  /** Everything after the keyword, continuation lines joined with a space. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  /** The `FROM` argument before `${ARG}` substitution. */
  from: string;
  name?: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  /** `ARG`s declared before the first `FROM` (usable in `FROM` lines) with their defaults. */
  globalArgs: Map<string, string | undefined>;
  stages: Stage[];
}

export interface CopySpec {
  from?: string;
  chown?: string;
  chmod?: string;
  sources: string[];
  dest: string;
}

/** Splits a Dockerfile into stages of instructions; throws `TypeError` on text it does not understand. */
export function parseDockerfile(text: string): Dockerfile {
  const globalArgs = new Map<string, string | undefined>();
  const stages: Stage[] = [];
  for (const ins of instructions(text)) {
    if (ins.keyword === "FROM") {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m?.[1]) throw new TypeError(`line ${ins.line}: cannot read FROM ${ins.args}`);
      stages.push({ from: m[1], ...(m[2] ? { name: m[2] } : {}), instructions: [] });
    } else if (stages.length === 0) {
      if (ins.keyword !== "ARG") throw new TypeError(`line ${ins.line}: only ARG may come before the first FROM`);
      const [name, value] = splitArg(ins.args);
      globalArgs.set(name, value);
    } else {
      stages.at(-1)?.instructions.push(ins);
    }
  }
  return { globalArgs, stages };
}

function* instructions(text: string): Generator<Instruction> {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const first = lines[i]?.trim() ?? "";
    if (first === "" || first.startsWith("#")) continue;
    const line = i + 1;
    let joined = first;
    while (joined.endsWith("\\")) {
      joined = joined.slice(0, -1).trimEnd();
      // Comment lines inside a continuation are dropped, as Docker does.
      let next = lines[++i]?.trim();
      while (next !== undefined && next.startsWith("#")) next = lines[++i]?.trim();
      if (next === undefined) break;
      joined = `${joined} ${next}`;
    }
    const m = /^([A-Za-z]+)\s*(.*)$/.exec(joined);
    if (!m?.[1]) throw new TypeError(`line ${line}: cannot read instruction`);
    yield { keyword: m[1].toUpperCase(), args: (m[2] ?? "").trim(), line };
  }
}

/** `NAME=value` or `NAME` → [name, value]. */
export function splitArg(args: string): [string, string | undefined] {
  const eq = args.indexOf("=");
  return eq < 0 ? [args.trim(), undefined] : [args.slice(0, eq).trim(), unquote(args.slice(eq + 1).trim())];
}

/** `KEY=value KEY2="v 2"` (ENV, LABEL) → pairs, in order. */
export function parseKeyValues(args: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const re = /([^\s=]+)=("(?:[^"\\]|\\.)*"|\S*)/g;
  for (const m of args.matchAll(re)) pairs.push([m[1] ?? "", unquote(m[2] ?? "")]);
  return pairs;
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, "$1") : value;
}

/** The JSON array of an exec-form instruction, or undefined for shell form. */
export function execForm(args: string): string[] | undefined {
  if (!args.startsWith("[")) return undefined;
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a): a is string => typeof a === "string"))
    throw new TypeError(`not an exec-form array: ${args}`);
  return parsed;
}

/** `COPY [--from=x] [--chown=u:g] [--chmod=m] src… dest` (shell or JSON form). */
export function parseCopy(args: string): CopySpec {
  const words = args.split(/\s+/);
  const spec: Partial<CopySpec> = {};
  while (words[0]?.startsWith("--")) {
    const flag = words.shift() ?? "";
    const m = /^--(from|chown|chmod|link|parents)(?:=(.*))?$/.exec(flag);
    if (!m) throw new TypeError(`unknown COPY flag ${flag}`);
    if (m[1] === "from" || m[1] === "chown" || m[1] === "chmod") spec[m[1]] = m[2] ?? "";
  }
  const rest = execForm(words.join(" ")) ?? words;
  if (rest.length < 2) throw new TypeError(`COPY needs a source and a destination: ${args}`);
  return { ...spec, sources: rest.slice(0, -1), dest: rest.at(-1) ?? "" };
}

/** Replaces `${NAME}` and `$NAME` with values from `vars` (unknown names become empty, as in Docker). */
export function substitute(text: string, vars: ReadonlyMap<string, string | undefined>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, a: string | undefined, b: string | undefined) => vars.get(a ?? b ?? "") ?? "",
  );
}

/** The HEALTHCHECK's options and command (exec form), or `NONE`. */
export function parseHealthcheck(args: string): { options: Record<string, string>; command: string[] } | "NONE" {
  if (args.trim().toUpperCase() === "NONE") return "NONE";
  const options: Record<string, string> = {};
  let rest = args;
  for (let m = /^--([a-z-]+)=(\S+)\s+/.exec(rest); m; m = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
    options[m[1] ?? ""] = m[2] ?? "";
    rest = rest.slice(m[0].length);
  }
  const cmd = /^CMD\s+(.*)$/.exec(rest);
  if (!cmd?.[1]) throw new TypeError(`HEALTHCHECK needs CMD: ${args}`);
  return { options, command: execForm(cmd[1]) ?? ["/bin/sh", "-c", cmd[1]] };
}
