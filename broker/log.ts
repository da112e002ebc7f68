/**
 * JSON-lines logger for the broker. One line per event: `{"time","level","msg",...fields}`.
 *
 * It never writes a token or secret: fields whose name says they hold one are replaced by
 * `"[redacted]"`, and any JWT-looking string anywhere in a line is replaced by its fingerprint.
 * Call sites log {@link tokenFingerprint} of tokens, never tokens.
 *
 * @example
 * const log = createLogger({ level: "info" });
 * log.info("workload token", { audience: "aws", token_sha256: tokenFingerprint(token) });
 */
import { hash } from "node:crypto";

export type LogLevel = "debug" | "info" | "warn" | "error";
export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Receives one complete line (with its trailing newline). Defaults to stderr. */
  write?: (line: string) => void;
  now?: () => Date;
}

const FINGERPRINT_HEX_CHARS = 16;

/** First 16 hex characters of `sha256(token)`: enough to correlate log lines, useless to an attacker. */
export function tokenFingerprint(token: string): string {
  return hash("sha256", token).slice(0, FINGERPRINT_HEX_CHARS);
}

// Names that hold secrets (tokens, keys, passwords, assertions, authorization headers)…
const SECRET_NAME = /token|secret|password|passwd|assertion|authorization|private.?key|credential|signature|cookie/i;
// …unless the name says it is only about one (a fingerprint, a file path, a type, a time, a count).
const SAFE_NAME = /(sha256|fingerprint|file|path|url|uri|endpoint|type|expires.*|expiry|at|ms|seconds|count|id|name|source|method)$/i;
// A compact JWS/JWE: base64url header starting with `{"` (eyJ), then 1–4 more segments.
const JWT = /eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){1,4}/g;

export const REDACTED = "[redacted]";

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name) && !SAFE_NAME.test(name);
}

function scrubString(value: string): string {
  return value.replace(JWT, (jwt) => `[jwt sha256:${tokenFingerprint(jwt)}]`);
}

function serializeError(error: Error, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: scrubString(error.message) };
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string") out.code = code;
  if (error.cause !== undefined && depth < 3) out.cause = redact(error.cause, depth + 1);
  return out;
}

/** A copy of `value` safe to log: secret-named fields replaced, JWTs fingerprinted, errors summarized. */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 6) return "[…]";
  if (typeof value === "string") return scrubString(value);
  if (value === null || typeof value !== "object") return typeof value === "bigint" ? String(value) : value;
  if (value instanceof Error) return serializeError(value, depth);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? "Invalid Date" : value.toISOString();
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = isSecretName(key) && item !== undefined && item !== null ? REDACTED : redact(item, depth + 1);
  }
  return out;
}

class JsonLogger implements Logger {
  constructor(
    private readonly threshold: number,
    private readonly write: (line: string) => void,
    private readonly now: () => Date,
    private readonly base: LogFields,
  ) {}

  private emit(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (LOG_LEVELS.indexOf(level) < this.threshold) return;
    const body = redact({ ...this.base, ...fields }) as LogFields;
    const line = { time: this.now().toISOString(), level, msg: scrubString(msg), ...body };
    try {
      this.write(`${JSON.stringify(line)}\n`);
    } catch {
      // A logger must never take the process down (e.g. EPIPE on a closed stderr).
    }
  }

  debug(msg: string, fields?: LogFields): void {
    this.emit("debug", msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.emit("info", msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.emit("warn", msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.emit("error", msg, fields);
  }
  child(fields: LogFields): Logger {
    return new JsonLogger(this.threshold, this.write, this.now, { ...this.base, ...fields });
  }
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? "info";
  return new JsonLogger(
    LOG_LEVELS.indexOf(level),
    options.write ?? ((line) => process.stderr.write(line)),
    options.now ?? (() => new Date()),
    {},
  );
}

/** Drops everything (tests, and commands whose output must stay machine-readable). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
