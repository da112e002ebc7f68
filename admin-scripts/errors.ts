/**
 * Every failure `realm-sync` reports carries one of these stable codes. The process exit code for
 * each code is decided here and nowhere else (see {@link EXIT_CODES}); `cli.ts` applies it once at
 * the top level. Messages are for operators and never contain a secret value (they name the env
 * var or file a secret comes from instead).
 */

/** Exit codes of every `realm-sync` command, as documented in `--help`. */
export const EXIT = {
  /** In sync, or the command did what it was asked. */
  OK: 0,
  /** A runtime failure: a cluster unreachable or refusing, an I/O error, a bug. */
  FAILURE: 1,
  /** Invalid configuration or command-line usage: nothing was changed. */
  INVALID: 2,
  /** Changes pending (plan, export-trust --check) or drift found (check). */
  DIFFERS: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type RealmSyncErrorCode =
  // the input: config file and command line
  | "CONFIG_INVALID"
  | "SECRET_UNAVAILABLE"
  | "USAGE"
  // the clusters
  | "CLUSTER_UNREACHABLE"
  | "CLUSTER_AUTH_FAILED"
  | "CLUSTER_REJECTED"
  | "APPLY_FAILED"
  | "LOCKED"
  | "EXTENSION_MISSING"
  | "EXTENSION_VERSION_MISMATCH"
  // outcomes that are not failures of the tool but must fail a CI job
  | "CHANGES_PENDING"
  | "DRIFT"
  | "INCOHERENT"
  // the tool itself
  | "COMMAND_UNAVAILABLE"
  | "IO_FAILED"
  | "INTERNAL";

/** The one code → exit-code table. */
export const EXIT_CODES: Record<RealmSyncErrorCode, ExitCode> = {
  CONFIG_INVALID: EXIT.INVALID,
  SECRET_UNAVAILABLE: EXIT.INVALID,
  USAGE: EXIT.INVALID,
  CLUSTER_UNREACHABLE: EXIT.FAILURE,
  CLUSTER_AUTH_FAILED: EXIT.FAILURE,
  CLUSTER_REJECTED: EXIT.FAILURE,
  APPLY_FAILED: EXIT.FAILURE,
  LOCKED: EXIT.FAILURE,
  EXTENSION_MISSING: EXIT.FAILURE,
  EXTENSION_VERSION_MISMATCH: EXIT.FAILURE,
  CHANGES_PENDING: EXIT.DIFFERS,
  DRIFT: EXIT.DIFFERS,
  INCOHERENT: EXIT.DIFFERS,
  COMMAND_UNAVAILABLE: EXIT.FAILURE,
  IO_FAILED: EXIT.FAILURE,
  INTERNAL: EXIT.FAILURE,
};

/** One problem in a config file, located the way an editor wants it (1-based line and column). */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** YAML path, e.g. `workloads[3].aws.roles[0].arn` (empty for the whole document). */
  path: string;
  message: string;
  /** Absent means `error`; warnings never make a config invalid. */
  severity?: "error" | "warning";
}

export interface RealmSyncErrorOptions {
  cause?: unknown;
  /** For CONFIG_INVALID: every problem found, in file order. */
  issues?: ConfigIssue[];
  /** For per-cluster failures: which cluster. */
  cluster?: string;
}

export class RealmSyncError extends Error {
  override readonly name = "RealmSyncError";
  readonly issues: ConfigIssue[];
  readonly cluster: string | undefined;
  constructor(
    readonly code: RealmSyncErrorCode,
    message: string,
    options: RealmSyncErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options.issues ?? [];
    this.cluster = options.cluster;
  }

  get exitCode(): ExitCode {
    return EXIT_CODES[this.code];
  }
}

/** `file:line:column path: message`, the form editors and CI annotations understand. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}${issue.severity === "warning" ? " warning" : ""}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}
