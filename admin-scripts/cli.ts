/**
 * `realm-sync`: the trust domain as code. Parses argv, lazy-loads `./commands/<name>.ts` and calls
 * its `run(opts)`, which returns an `Outcome`; the outcome, or the code of a thrown
 * `RealmSyncError`, becomes the exit code here, once, through `EXIT_CODES` (see `errors.ts`).
 *
 *     realm-sync <command> [options] <config.yaml>
 *
 * The executable is `main.ts` (bundled as `dist/realm-sync.mjs`, the package's `realm-sync` bin).
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { COMMANDS, type CommandIO, type CommandName, type CommandSpec, type OptionSpec } from "./command.ts";
import { EXIT_CODES, formatIssue, RealmSyncError, type Outcome } from "./errors.ts";

const TOOL = "realm-sync";

const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  verbose: { type: "boolean", default: false, help: "show stack traces of unexpected errors" },
  help: { type: "boolean", short: "h", default: false, help: "show this help" },
};

const EXIT_HELP = `Exit codes:
  0  in sync, or done
  3  changes pending (plan, export-trust --check) or drift found (check)
  2  invalid config or usage (nothing was changed)
  1  runtime failure (e.g. a cluster unreachable, named in the message)`;

function optionLines(options: Record<string, OptionSpec>): string {
  const rows = Object.entries(options).map(
    ([name, o]) => [`${o.short ? `-${o.short}, ` : "    "}--${name}${o.value ? ` ${o.value}` : ""}`, o.help] as const,
  );
  const width = Math.max(...rows.map(([l]) => l.length));
  return rows.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`).join("\n");
}

export function toolHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const commands = Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join("\n");
  return `usage: ${TOOL} <command> [options] <config.yaml>

The trust domain as code: one YAML file, applied identically to every Keycloak cluster, and the
cloud side of the trust (AWS IAM, Entra federated credentials) generated from the same file.

Commands:
${commands}

Options:
${optionLines(GLOBAL_OPTIONS)}

${EXIT_HELP}

Run \`${TOOL} <command> --help\` for a command's options.
`;
}

export function commandHelp(name: CommandName): string {
  const spec = COMMANDS[name];
  const exits = Object.entries(spec.exits)
    .map(([code, text]) => `  ${code}  ${text}`)
    .join("\n");
  return `usage: ${TOOL} ${name} [options]${spec.configArg ? " <config.yaml>" : ""}

${spec.summary}
${spec.details ? `\n${spec.details}\n` : ""}
Options:
${optionLines({ ...spec.options, ...GLOBAL_OPTIONS })}

Exit codes:
${exits}
`;
}

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** argv (after the command name) → the command's options object. Throws USAGE. */
function parseCommandArgs(
  name: CommandName,
  spec: CommandSpec,
  args: string[],
  io: CommandIO,
): Record<string, unknown> & { help: boolean } {
  const options: ParseArgsConfig["options"] = {};
  for (const [key, o] of Object.entries({ ...spec.options, ...GLOBAL_OPTIONS })) {
    options[key] = {
      type: o.type,
      ...(o.multiple ? { multiple: true } : {}),
      ...(o.short ? { short: o.short } : {}),
      ...(o.default !== undefined ? { default: o.default } : {}),
    };
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new RealmSyncError("USAGE", `${name}: ${(cause as Error).message}`, { cause });
  }
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed.values)) values[camel(key)] = value;
  const help = values.help === true;
  if (!help) {
    if (spec.configArg && parsed.positionals.length !== 1) {
      throw new RealmSyncError(
        "USAGE",
        `${name}: expected one config file, got ${parsed.positionals.length ? parsed.positionals.join(" ") : "none"}`,
      );
    }
    if (!spec.configArg && parsed.positionals.length)
      throw new RealmSyncError("USAGE", `${name}: unexpected argument ${parsed.positionals[0]}`);
  }
  return { ...values, ...(spec.configArg ? { config: parsed.positionals[0] } : {}), ...io, help };
}

type RunFn = (opts: unknown) => Promise<Outcome>;

/** Imports a command module; injectable so tests can stand in for modules. */
export type CommandLoader = (name: CommandName) => Promise<unknown>;

/** Each command's module, named statically so the bundler includes every one. */
const COMMAND_MODULES: Record<CommandName, () => Promise<unknown>> = {
  validate: () => import("./commands/validate.ts"),
  plan: () => import("./commands/plan.ts"),
  apply: () => import("./commands/apply.ts"),
  check: () => import("./commands/check.ts"),
  "export-trust": () => import("./commands/export-trust.ts"),
  schema: () => import("./commands/schema.ts"),
  "bootstrap-identities": () => import("./commands/bootstrap-identities.ts"),
};

const importCommand: CommandLoader = (name) => COMMAND_MODULES[name]();

async function loadCommand(name: CommandName, load: CommandLoader): Promise<RunFn> {
  let mod: unknown;
  try {
    mod = await load(name);
  } catch (cause) {
    const err = cause as NodeJS.ErrnoException;
    const missing = err.code === "ERR_MODULE_NOT_FOUND" && err.message.includes(`commands/${name}.ts`);
    if (missing)
      throw new RealmSyncError(
        "COMMAND_UNAVAILABLE",
        `command "${name}" is not available in this build (admin-scripts/commands/${name}.ts is missing)`,
        { cause },
      );
    throw cause;
  }
  const run = (mod as { run?: unknown }).run;
  if (typeof run !== "function")
    throw new RealmSyncError(
      "COMMAND_UNAVAILABLE",
      `command "${name}" is not available: admin-scripts/commands/${name}.ts exports no run()`,
    );
  return run as RunFn;
}

function report(err: unknown, verbose: boolean, io: CommandIO): number {
  if (err instanceof RealmSyncError) {
    io.stderr.write(`${TOOL}: ${err.message}\n`);
    for (const issue of err.issues) io.stderr.write(`  ${formatIssue(issue)}\n`);
    if (verbose && err.cause instanceof Error) io.stderr.write(`  cause: ${err.cause.stack ?? err.cause.message}\n`);
    if (err.code === "USAGE") io.stderr.write(`Run \`${TOOL} --help\` for usage.\n`);
    return EXIT_CODES[err.code];
  }
  const e = err instanceof Error ? err : new Error(String(err));
  io.stderr.write(`${TOOL}: unexpected error: ${e.message}\n`);
  if (verbose && e.stack) io.stderr.write(`${e.stack}\n`);
  else io.stderr.write("(run with --verbose for the stack trace)\n");
  return EXIT_CODES.INTERNAL;
}

/** Runs one `realm-sync` invocation; returns the exit code. */
export async function main(argv: string[], io: CommandIO, load: CommandLoader = importCommand): Promise<number> {
  const verbose = argv.includes("--verbose");
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      if (first === "help" && rest[0] && isCommand(rest[0])) io.stdout.write(commandHelp(rest[0]));
      else (first === undefined ? io.stderr : io.stdout).write(toolHelp());
      return EXIT_CODES[first === undefined ? "USAGE" : "OK"];
    }
    if (!isCommand(first)) {
      throw new RealmSyncError("USAGE", `unknown command "${first}" (commands: ${Object.keys(COMMANDS).join(", ")})`);
    }
    const opts = parseCommandArgs(first, COMMANDS[first], rest, io);
    if (opts.help) {
      io.stdout.write(commandHelp(first));
      return EXIT_CODES.OK;
    }
    const run = await loadCommand(first, load);
    return EXIT_CODES[await run(opts)];
  } catch (err) {
    return report(err, verbose, io);
  }
}
