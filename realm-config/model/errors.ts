/**
 * The trust-domain model's own errors. Loading a trust-domain file fails in two ways only: the file
 * is not a valid trust domain (`CONFIG_INVALID`, with every problem located in the file), or a
 * secret it references cannot be read (`SECRET_UNAVAILABLE`). Each program that loads the file
 * maps these at its own edge: realm-sync to its exit codes, the sidecar to its policy store's
 * problems. Messages never contain a secret value (they name the env var or file instead).
 */

export type TrustDomainErrorCode = "CONFIG_INVALID" | "SECRET_UNAVAILABLE";

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

export class TrustDomainError extends Error {
  override readonly name = "TrustDomainError";
  readonly issues: ConfigIssue[];
  constructor(
    readonly code: TrustDomainErrorCode,
    message: string,
    options: { cause?: unknown; issues?: ConfigIssue[] } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.issues = options.issues ?? [];
  }
}

/** `file:line:column path: message`, the form editors and CI annotations understand. */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}${issue.severity === "warning" ? " warning" : ""}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}
