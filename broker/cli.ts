/**
 * `cloud-broker` command line: parses argv, lazy-loads one module per command, and maps how each
 * run ended to an exit code in one place: the {@link EXIT_CODES} table, applied once by
 * {@link runCli}.
 *
 * Commands are plain async functions taking typed options and an {@link Io} (stdout, stderr, env,
 * cwd), so tests run them in-process. A command returns its {@link Outcome} ("OK", or the code of
 * a failure it has already reported in full) and throws every other failure; it never picks an
 * exit code.
 */
import { parseArgs } from "node:util";
import { ENV_VARS } from "./config.ts";
import { BrokerError, type BrokerErrorCode } from "./errors.ts";

/** Exit codes of every command, as `--help` lists them. */
export const EXIT = {
  OK: 0,
  /** A runtime failure: credentials unavailable, an upstream refusal, an I/O error. */
  FAILURE: 1,
  /** Invalid configuration or command line. */
  INVALID: 2,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Everything a command may touch of the process. The entry module passes the real ones. */
export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Resolves when the process is asked to stop (SIGTERM / SIGINT); only `serve` waits on it. */
  shutdownSignal?: Promise<string>;
}

/** A wrong command line; exit code 2 with the usage hint. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/**
 * How a command run ended: `OK`, a wrong command line (`USAGE`), a broker error code, `SHUTDOWN_DEADLINE`
 * (serve: work still pending when the shutdown deadline passed) or `UNEXPECTED` (anything else thrown).
 */
export type Outcome = "OK" | "USAGE" | BrokerErrorCode | "SHUTDOWN_DEADLINE" | "UNEXPECTED";

/** The one outcome → exit-code table of `cloud-broker`. */
export const EXIT_CODES: Record<Outcome, ExitCode> = {
  OK: EXIT.OK,
  USAGE: EXIT.INVALID,
  CONFIG_INVALID: EXIT.INVALID,
  KEYCLOAK_UNAVAILABLE: EXIT.FAILURE,
  KEYCLOAK_REJECTED: EXIT.FAILURE,
  KEYCLOAK_INVALID_TOKEN: EXIT.FAILURE,
  CLIENT_ASSERTION_UNREADABLE: EXIT.FAILURE,
  AWS_RETRYABLE: EXIT.FAILURE,
  AWS_REJECTED: EXIT.FAILURE,
  AZURE_RETRYABLE: EXIT.FAILURE,
  AZURE_REJECTED: EXIT.FAILURE,
  CREDENTIALS_EXPIRING: EXIT.FAILURE,
  UNAUTHORIZED: EXIT.FAILURE,
  BAD_REQUEST: EXIT.FAILURE,
  UNKNOWN_TARGET: EXIT.FAILURE,
  SHUTDOWN_DEADLINE: EXIT.FAILURE,
  UNEXPECTED: EXIT.FAILURE,
};

/** The outcome of a thrown error. */
export function outcomeOf(error: unknown): Outcome {
  if (error instanceof UsageError) return "USAGE";
  if (error instanceof BrokerError) return error.code;
  return "UNEXPECTED";
}

export const COMMANDS = ["serve", "credential-process", "env", "check-config", "help"] as const;
export type Command = (typeof COMMANDS)[number];

export function helpText(): string {
  const vars = ENV_VARS.map((v) => `  ${v.name.padEnd(36)} ${v.doc}`).join("\n");
  return `cloud-broker: trades the workload's Keycloak identity for AWS and Azure credentials and serves them to unmodified SDKs.

Usage:
  cloud-broker [serve] [--config <file>]
      Run the sidecar (default command).
  cloud-broker credential-process --target <name> [--url <base url> --token-file <file> | --config <file>]
      Print AWS credential_process JSON (Version 1) for one AWS target, fetched from the running sidecar.
  cloud-broker env [--mode <mode>] [--target <name>] [--format env|dotenv|json] [--config <file>]
      Print exactly the environment a workload needs for one delivery mode (default: the first enabled one).
      Modes: aws-container, aws-web-identity, aws-credential-process, azure-app-service, azure-imds, azure-workload-identity.
  cloud-broker check-config [--config <file>]
      Validate the configuration (file + environment) and list every error; contacts nothing.
  cloud-broker --help | --version

Options:
  --config <file>    YAML config file (or CLOUD_BROKER_CONFIG); without one, the environment alone configures the broker.

Environment (each overrides the config file):
${vars}

Exit codes:
  0  success
  1  runtime failure (credentials unavailable, refused upstream, I/O error)
  2  invalid configuration or command line
`;
}

const OPTIONS = {
  config: { type: "string" },
  target: { type: "string" },
  url: { type: "string" },
  "token-file": { type: "string" },
  mode: { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean" },
} as const;

export interface ParsedArgs {
  command: Command;
  config?: string;
  target?: string;
  url?: string;
  tokenFile?: string;
  mode?: string;
  format?: string;
  version?: boolean;
}

/** argv (without node and script) → command and options; throws {@link UsageError}. */
export function parseCommandLine(argv: readonly string[]): ParsedArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`unexpected argument: ${positionals[1]}`);
  const name = positionals[0] ?? "serve";
  if (!(COMMANDS as readonly string[]).includes(name)) throw new UsageError(`unknown command: ${name}`);
  const command: Command = values.help ? "help" : (name as Command);
  const out: ParsedArgs = { command };
  if (values.config !== undefined) out.config = values.config;
  if (values.target !== undefined) out.target = values.target;
  if (values.url !== undefined) out.url = values.url;
  if (values["token-file"] !== undefined) out.tokenFile = values["token-file"];
  if (values.mode !== undefined) out.mode = values.mode;
  if (values.format !== undefined) out.format = values.format;
  if (values.version) out.version = true;
  const allowed: Record<Command, ReadonlyArray<keyof ParsedArgs>> = {
    serve: ["config"],
    "credential-process": ["config", "target", "url", "tokenFile"],
    env: ["config", "target", "mode", "format"],
    "check-config": ["config"],
    help: ["config", "target", "url", "tokenFile", "mode", "format"],
  };
  for (const key of ["config", "target", "url", "tokenFile", "mode", "format"] as const) {
    if (out[key] !== undefined && !allowed[command].includes(key))
      throw new UsageError(`--${key === "tokenFile" ? "token-file" : key} does not apply to ${command}`);
  }
  return out;
}

async function runCommand(args: ParsedArgs, io: Io): Promise<Outcome> {
  if (args.version) {
    const { VERSION } = await import("./cli/version.ts");
    io.stdout(`${VERSION}\n`);
    return "OK";
  }
  switch (args.command) {
    case "help":
      io.stdout(helpText());
      return "OK";
    case "serve":
      return (await import("./cli/serve.ts")).serveCommand(args, io);
    case "credential-process":
      return (await import("./cli/credential-process.ts")).credentialProcessCommand(args, io);
    case "env":
      return (await import("./cli/env.ts")).envCommand(args, io);
    case "check-config":
      return (await import("./cli/check-config.ts")).checkConfigCommand(args, io);
  }
}

/** Runs one command line; returns the exit code (never throws). The one place outcomes become exit codes. */
export async function runCli(argv: readonly string[], io: Io): Promise<ExitCode> {
  try {
    return EXIT_CODES[await runCommand(parseCommandLine(argv), io)];
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`cloud-broker: ${error instanceof BrokerError ? `${error.code}: ` : ""}${message}\n`);
    if (error instanceof UsageError) io.stderr("Run 'cloud-broker --help' for usage.\n");
    return EXIT_CODES[outcomeOf(error)];
  }
}
