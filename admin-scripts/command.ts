/**
 * The command surface of `realm-sync`: what every command module receives and which options each
 * command takes. `cli.ts` parses argv against {@link COMMANDS} and calls the command's module,
 * `./commands/<name>.ts`, which exports
 *
 *     export async function run(opts: <Name>Options): Promise<Outcome>   // "OK", "CHANGES_PENDING", …
 *
 * Commands read nothing global: cwd, env and output streams come in `opts`, so tests call `run`
 * directly. Failures are thrown as `RealmSyncError`; the CLI maps outcomes and codes to exit codes (EXIT_CODES).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { formatIssue, loadingTrustDomain, RealmSyncError } from "./errors.ts";
import { parseTrustDomain, type LoadedTrustDomain } from "../realm-config/model/load.ts";

export interface Writer {
  write(text: string): unknown;
}

/** What every command gets besides its own options. */
export interface CommandIO {
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writer;
  stderr: Writer;
}

export interface CommonOptions extends CommandIO {
  /** The trust-domain file, relative to `cwd`. */
  config: string;
  verbose: boolean;
}

export interface ValidateOptions extends CommonOptions {
  /** Machine-readable output: `{ valid, errors, warnings }`. */
  json: boolean;
  /** Also require every `${VAR}` in cluster admin URLs to be set (as plan/apply/check do). */
  requireEnv: boolean;
}

export interface ExportTrustOptions extends CommonOptions {
  out: string;
  /** Write nothing; exit 3 if the files in `out` differ from what would be written. */
  check: boolean;
}

export interface PlanOptions extends CommonOptions {
  json: boolean;
  /** Only these clusters (all when empty). */
  cluster: string[];
}

export interface ApplyOptions extends CommonOptions {
  json: boolean;
  cluster: string[];
}

export interface CheckOptions extends CommonOptions {
  json: boolean;
  cluster: string[];
}

export interface BootstrapIdentitiesOptions extends CommonOptions {
  cluster: string[];
}

export interface CommandOptionsMap {
  validate: ValidateOptions;
  plan: PlanOptions;
  apply: ApplyOptions;
  check: CheckOptions;
  "export-trust": ExportTrustOptions;
  schema: SchemaOptions;
  "bootstrap-identities": BootstrapIdentitiesOptions;
}

export interface SchemaOptions extends CommandIO {
  verbose: boolean;
  /** Where to write the JSON Schema (`-` for stdout). */
  out: string;
  check: boolean;
}

export type CommandName = keyof CommandOptionsMap;

export interface OptionSpec {
  type: "boolean" | "string";
  multiple?: boolean;
  short?: string;
  default?: string | boolean | string[];
  /** Shown in `--help`, e.g. `<dir>`. */
  value?: string;
  help: string;
}

export interface CommandSpec {
  summary: string;
  /** More text for `<command> --help`, after the summary. */
  details?: string;
  /** Positional argument: the config file, or none. */
  configArg: boolean;
  /** Exit codes this command can return, for `--help`. */
  exits: Partial<Record<0 | 1 | 2 | 3, string>>;
  options: Record<string, OptionSpec>;
}

const json: OptionSpec = { type: "boolean", default: false, help: "machine-readable JSON on stdout" };
const cluster: OptionSpec = {
  type: "string",
  multiple: true,
  value: "<name>",
  default: [],
  help: "only this cluster (repeatable; default: all)",
};

/** Every command, its options and its exit codes: the one table `--help` and argv parsing use. */
export const COMMANDS: Record<CommandName, CommandSpec> = {
  validate: {
    summary: "check the config offline: schema and semantic rules, every error with file:line and YAML path",
    configArg: true,
    exits: { 0: "valid (warnings may be printed)", 2: "invalid config or usage" },
    options: {
      json,
      "require-env": { type: "boolean", default: false, help: "also fail when a ${VAR} in a cluster adminUrl is unset" },
    },
  },
  plan: {
    summary: "show, per cluster, what apply would create, update or delete, down to the field",
    configArg: true,
    exits: {
      0: "every cluster in sync",
      3: "changes pending",
      2: "invalid config or usage",
      1: "a cluster unreachable or failing (named)",
    },
    options: { json, cluster },
  },
  apply: {
    summary: "make every cluster match the config (idempotent; touches only what realm-sync manages)",
    configArg: true,
    exits: {
      0: "done, every cluster in sync",
      2: "invalid config or usage",
      1: "a cluster failed (named; others are reported separately)",
    },
    options: { json, cluster },
  },
  check: {
    summary: "detect drift and check trust-domain coherence (same iss, JWKS and token claims on every cluster)",
    configArg: true,
    exits: {
      0: "in sync and coherent",
      3: "drift or incoherence found",
      2: "invalid config or usage",
      1: "a cluster unreachable or failing (named)",
    },
    options: { json, cluster },
  },
  "export-trust": {
    summary: "write the cloud side of the trust: IAM OIDC provider, role trust policies, Entra federated credentials, Terraform JSON",
    configArg: true,
    exits: {
      0: "written (or up to date with --check)",
      3: "--check: files differ from the config",
      2: "invalid config or usage",
      1: "could not write",
    },
    options: {
      out: { type: "string", short: "o", value: "<dir>", default: "trust-export", help: "output directory (default: trust-export)" },
      check: { type: "boolean", default: false, help: "write nothing; exit 3 if the files in --out differ" },
    },
  },
  "bootstrap-identities": {
    summary:
      "with the bootstrap admin: create per cluster the realm (if missing) and realm-sync's own apply and view identities, holding only their roles",
    details: `Per selected cluster, signed in with its bootstrap admin, idempotent:
  - creates the realm, empty and marked as realm-sync's, unless it exists (apply fills it);
  - makes clusters[].auth.apply and clusters[].auth.view confidential service-account clients of the
    master realm holding exactly these roles of the <realm>-realm client, and nothing else:
      view:  view-realm, view-clients, view-identity-providers, view-users
      apply: the view roles, manage-realm, manage-clients, manage-identity-providers, manage-users
Secrets: each identity's secret is the value its clientSecret names. A file that does not exist yet
is created with a new random secret (mode 0600); an env variable must be set. To rotate, put a new
value there and rerun. No secret is printed.
The bootstrap admin comes from the environment, under Keycloak's own names:
  KC_BOOTSTRAP_ADMIN_USERNAME + KC_BOOTSTRAP_ADMIN_PASSWORD, or
  KC_BOOTSTRAP_ADMIN_CLIENT_ID + KC_BOOTSTRAP_ADMIN_CLIENT_SECRET`,
    configArg: true,
    exits: {
      0: "every identity in place (created, repaired or unchanged)",
      2: "invalid config, usage, or a secret unavailable (nothing was changed)",
      1: "a cluster failed (named; the others were still done)",
    },
    options: { cluster },
  },
  schema: {
    summary: "write the JSON Schema of the config (for editors) generated from the zod schema",
    configArg: false,
    exits: { 0: "written (or up to date with --check)", 3: "--check: the file differs", 1: "could not write" },
    options: {
      out: {
        type: "string",
        short: "o",
        value: "<file>",
        default: "realm-config/trust-domain.schema.json",
        help: "output file, - for stdout",
      },
      check: { type: "boolean", default: false, help: "write nothing; exit 3 if the file differs" },
    },
  },
};

/** The config file's text, read relative to the command's cwd. Throws `CONFIG_INVALID` when unreadable. */
export async function readConfigText(opts: Pick<CommonOptions, "cwd" | "config">): Promise<string> {
  try {
    return await readFile(resolve(opts.cwd, opts.config), "utf8");
  } catch (cause) {
    throw new RealmSyncError("CONFIG_INVALID", `cannot read ${opts.config} (${(cause as NodeJS.ErrnoException).code ?? "unreadable"})`, {
      cause,
    });
  }
}

/**
 * Loads and validates the command's config file (relative to `cwd`), printing warnings to stderr.
 * Throws `CONFIG_INVALID` with every issue. Commands that talk to clusters pass
 * `requireAdminUrls: true`.
 *
 * @example const { config, source } = await readTrustDomainFile(opts, { requireAdminUrls: true });
 */
export async function readTrustDomainFile(opts: CommonOptions, load: { requireAdminUrls: boolean }): Promise<LoadedTrustDomain> {
  const text = await readConfigText(opts);
  const loaded = loadingTrustDomain(() =>
    parseTrustDomain(text, opts.config, { env: opts.env, cwd: opts.cwd, requireAdminUrls: load.requireAdminUrls }),
  );
  for (const w of loaded.warnings) opts.stderr.write(`${formatIssue(w)}\n`);
  return loaded;
}
