/**
 * The integration run's log scan: every log line written during `npm test`'s integration run —
 * Keycloak's logs, and the stderr (and, for the broker and realm-sync, stdout) of every Node process
 * the run starts, test workers included — is searched for tokens, private keys, AWS secret keys and
 * client secrets. A hit fails the run with the file and line, never the secret itself.
 *
 * How the lines get there: the global setup calls {@link startLogScan}, which sets
 * `KCB_TEST_LOG_DIR` and preloads `faults/log-tee.mjs` into every Node process through
 * `NODE_OPTIONS` (workers and their children inherit it); the preload copies what each process
 * writes into that directory. Secrets known only to a test worker (the STS emulator's issued keys,
 * realm fixtures' client secrets) are recorded with {@link recordSecret} into `KCB_TEST_SECRETS_DIR`
 * so the scan can look for their exact values too.
 *
 * @example
 * const scan = startLogScan(join(cacheDir(), "runs", `logs-${process.pid}`));
 * Object.assign(process.env, scan.env);
 * // … the run …
 * const report = scan.finish([keycloakLogFile]); // prints the report; exit code 1 on a hit
 */
import { createHash } from "node:crypto";
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export const TEST_LOG_DIR_ENV = "KCB_TEST_LOG_DIR";
export const TEST_SECRETS_DIR_ENV = "KCB_TEST_SECRETS_DIR";

/** A secret whose exact value must never appear in a log. */
export interface KnownSecret {
  kind: string;
  value: string;
}

/** One hit: where, and what kind of secret. Never the value (a sha256 prefix of it at most). */
export interface Finding {
  file: string;
  line: number;
  kind: string;
  sha256: string;
}

/** Values shorter than this are not searched for (they would match by chance). */
export const MIN_SECRET_LENGTH = 12;

/**
 * Secrets recognisable by their shape alone. A compact JWS/JWE has a base64url JSON header and a
 * JSON payload (both start `eyJ`); every STS session token starts with the same base64 prefix; an
 * AWS secret access key is 40 base64 characters, recognised next to its field name.
 */
export const SECRET_SHAPES: ReadonlyArray<{ kind: string; pattern: RegExp }> = [
  { kind: "jwt", pattern: /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g },
  { kind: "pem-private-key", pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----/g },
  { kind: "aws-session-token", pattern: /IQoJb3JpZ2luX2Vj[A-Za-z0-9+/]{16,}/g },
  {
    kind: "aws-secret-access-key",
    pattern: /(?:secret_?access_?key|SecretAccessKey)["']?\s*[:=]\s*["']?[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/])/gi,
  },
];

const sha256Prefix = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 12);

/** Every hit in `text` (one file's content); pure. */
export function scanText(text: string, file: string, known: readonly KnownSecret[]): Finding[] {
  const findings: Finding[] = [];
  const secrets = known.filter((s) => s.value.length >= MIN_SECRET_LENGTH);
  text.split("\n").forEach((line, index) => {
    for (const { kind, pattern } of SECRET_SHAPES) {
      for (const match of line.matchAll(pattern)) findings.push({ file, line: index + 1, kind, sha256: sha256Prefix(match[0]) });
    }
    for (const secret of secrets) {
      if (line.includes(secret.value)) findings.push({ file, line: index + 1, kind: secret.kind, sha256: sha256Prefix(secret.value) });
    }
  });
  return findings;
}

/** Every regular file under `dir` (recursive); none when it does not exist. */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return listFiles(path);
    return entry.isFile() ? [path] : [];
  });
}

/** The secrets recorded by {@link recordSecret} under `dir` (JSON lines), deduplicated. */
export function readKnownSecrets(dir: string): KnownSecret[] {
  const seen = new Map<string, KnownSecret>();
  for (const file of listFiles(dir)) {
    for (const line of readFileSync(file, "utf8").split("\n")) {
      if (!line.trim()) continue;
      try {
        const parsed = JSON.parse(line) as Partial<KnownSecret>;
        if (typeof parsed.kind === "string" && typeof parsed.value === "string")
          seen.set(parsed.value, { kind: parsed.kind, value: parsed.value });
      } catch {
        // a line cut by a killed process: nothing to search for
      }
    }
  }
  return [...seen.values()];
}

export interface ScanReport {
  files: number;
  lines: number;
  bytes: number;
  knownSecrets: number;
  findings: Finding[];
}

/** Scans `files` for the shapes and the `known` values. */
export function scanFiles(files: readonly string[], known: readonly KnownSecret[]): ScanReport {
  const report: ScanReport = { files: 0, lines: 0, bytes: 0, knownSecrets: known.length, findings: [] };
  for (const file of files) {
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    const text = readFileSync(file, "utf8");
    report.files += 1;
    report.bytes += text.length;
    report.lines += text.split("\n").length;
    report.findings.push(...scanText(text, file, known));
  }
  return report;
}

/** The report as printed: one line per hit (`file:line: kind [sha256:…]`), never a secret. */
export function formatReport(report: ScanReport, max = 50): string {
  const head = `log scan: ${report.files} files, ${report.lines} lines (${(report.bytes / 1024 / 1024).toFixed(1)} MiB), ${report.knownSecrets} known secrets`;
  if (report.findings.length === 0) return `${head}: no token, private key, secret key or client secret found`;
  const lines = report.findings.slice(0, max).map((f) => `  ${f.file}:${f.line}: ${f.kind} [sha256:${f.sha256}]`);
  const more = report.findings.length > max ? [`  … and ${report.findings.length - max} more`] : [];
  return [`${head}: ${report.findings.length} secret(s) found in logs`, ...lines, ...more].join("\n");
}

/**
 * From any process of the integration run: remembers a secret the scan must look for. A no-op
 * outside the run (no `KCB_TEST_SECRETS_DIR`), e.g. in the benchmarks.
 */
export function recordSecret(kind: string, value: string, env: Readonly<Record<string, string | undefined>> = process.env): void {
  const dir = env[TEST_SECRETS_DIR_ENV];
  if (!dir || value.length < MIN_SECRET_LENGTH) return;
  try {
    appendFileSync(join(dir, `${process.pid}.jsonl`), `${JSON.stringify({ kind, value })}\n`, { mode: 0o600 });
  } catch {
    // never break a test over the scan's bookkeeping
  }
}

/**
 * A `write` for the broker's logger (`createLogger({ write })`) that puts an in-process broker's
 * lines where the scan sees them: `<KCB_TEST_LOG_DIR>/<pid>-<name>.log`. Outside the run, drops them.
 */
export function testLogWriter(name: string): (line: string) => void {
  const dir = process.env[TEST_LOG_DIR_ENV];
  if (!dir) return () => {};
  const file = join(dir, `${process.pid}-${name.replace(/[^\w.-]/g, "_")}.log`);
  return (line) => {
    try {
      appendFileSync(file, line, { mode: 0o600 });
    } catch {
      // as above
    }
  };
}

/** The preload that tees every Node process's output into `KCB_TEST_LOG_DIR`. */
export const LOG_TEE_PRELOAD = new URL("./faults/log-tee.mjs", import.meta.url);

export interface LogScan {
  /** Set these in `process.env` before the test workers start. */
  env: Record<string, string>;
  logDir: string;
  secretsDir: string;
  /**
   * Scans the captured logs plus `extraFiles` (Keycloak's logs), prints the report, and on a hit
   * sets the exit code to 1 (a global teardown's exception does not fail a vitest run) and keeps
   * the directory for inspection; otherwise removes it.
   */
  finish(extraFiles: readonly string[]): ScanReport;
}

/** Prepares the scan's directories under `dir` (emptied first) and the environment that feeds them. */
export function startLogScan(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): LogScan {
  rmSync(dir, { recursive: true, force: true });
  const logDir = join(dir, "logs");
  const secretsDir = join(dir, "secrets");
  mkdirSync(logDir, { recursive: true, mode: 0o700 });
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const preload = LOG_TEE_PRELOAD.href;
  // NODE_OPTIONS is split on spaces: a path with one cannot be preloaded (the scan then sees Keycloak's logs only).
  const nodeOptions = preload.includes(" ") ? env.NODE_OPTIONS : [env.NODE_OPTIONS, `--import=${preload}`].filter(Boolean).join(" ");
  return {
    env: { [TEST_LOG_DIR_ENV]: logDir, [TEST_SECRETS_DIR_ENV]: secretsDir, ...(nodeOptions && { NODE_OPTIONS: nodeOptions }) },
    logDir,
    secretsDir,
    finish(extraFiles) {
      const report = scanFiles([...listFiles(logDir), ...extraFiles], readKnownSecrets(secretsDir));
      if (report.findings.length > 0) {
        console.error(`${formatReport(report)}\n  (logs kept in ${logDir})`);
        process.exitCode = 1;
      } else {
        console.log(formatReport(report));
        rmSync(dir, { recursive: true, force: true });
      }
      return report;
    },
  };
}
