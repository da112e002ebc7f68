/**
 * Every failure `realm-sync` reports carries one of these stable codes. The process exit code for
 * each outcome is decided here and nowhere else (see {@link EXIT_CODES}); `cli.ts` applies it once
 * at the top level. Commands return an {@link Outcome} and never pick an exit code. Messages are
 * for operators and never contain a secret value (they name the env var or file a secret comes
 * from instead).
 */
import { TrustDomainError, type ConfigIssue } from "../realm-config/model/errors.ts";

export { formatIssue, type ConfigIssue } from "../realm-config/model/errors.ts";

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
  | "CLUSTER_FORBIDDEN"
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

/**
 * How a command ended: `OK` (in sync, or it did what it was asked), or the code of what it found
 * and has already reported in full (changes pending, drift, a cluster it could not read while the
 * others were still shown, an invalid config reported as JSON). Failures it did not report are
 * thrown as {@link RealmSyncError}.
 */
export type Outcome = "OK" | RealmSyncErrorCode;

/** The one outcome → exit-code table of `realm-sync`. */
export const EXIT_CODES: Record<Outcome, ExitCode> = {
  OK: EXIT.OK,
  CONFIG_INVALID: EXIT.INVALID,
  SECRET_UNAVAILABLE: EXIT.INVALID,
  USAGE: EXIT.INVALID,
  CLUSTER_UNREACHABLE: EXIT.FAILURE,
  CLUSTER_AUTH_FAILED: EXIT.FAILURE,
  CLUSTER_FORBIDDEN: EXIT.FAILURE,
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
}

/**
 * realm-sync's edge with the trust-domain model: runs `load` (a model call) and rethrows a model
 * error as the realm-sync error of the same code (`CONFIG_INVALID` or `SECRET_UNAVAILABLE`), with
 * every issue.
 */
export function loadingTrustDomain<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof TrustDomainError) throw new RealmSyncError(error.code, error.message, { issues: error.issues, cause: error });
    throw error;
  }
}
