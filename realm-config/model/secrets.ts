/**
 * Secrets are never in the config, only references to them. This is the one place a reference
 * becomes a value; errors name the variable or file, never the value.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { TrustDomainError } from "./errors.ts";
import type { SecretRef } from "./schema.ts";

export interface ResolveSecretOptions {
  /** Directory relative `file` references resolve against: the config file's directory. */
  baseDir: string;
  env: Readonly<Record<string, string | undefined>>;
}

/** Human description of where a secret comes from, safe to log. */
export function describeSecretRef(ref: SecretRef): string {
  return "env" in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

/**
 * The secret's value. A file's trailing line break is dropped (`echo "$S" > file` adds one; PEM
 * parsers do not care). Throws `SECRET_UNAVAILABLE` naming the variable or file when it is unset,
 * empty or unreadable.
 *
 * @example resolveSecret({ env: "KCB_ADMIN_PASSWORD" }, { baseDir: source.dir, env: process.env })
 */
export function resolveSecret(ref: SecretRef, opts: ResolveSecretOptions): string {
  if ("env" in ref) {
    const value = opts.env[ref.env];
    if (value === undefined || value === "") throw new TrustDomainError("SECRET_UNAVAILABLE", `environment variable ${ref.env} is not set`);
    return value;
  }
  const path = isAbsolute(ref.file) ? ref.file : resolve(opts.baseDir, ref.file);
  let value: string;
  try {
    value = readFileSync(path, "utf8");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "unreadable";
    throw new TrustDomainError("SECRET_UNAVAILABLE", `cannot read secret file ${path} (${code})`, { cause });
  }
  value = value.replace(/\r?\n$/, "");
  if (value === "") throw new TrustDomainError("SECRET_UNAVAILABLE", `secret file ${path} is empty`);
  return value;
}

/** A secret realm-sync may create: the value, and whether this call generated it (and wrote the file). */
export interface ProvisionedSecret {
  value: string;
  /** Set when the file did not exist: the path it must be written to. */
  generate?: string;
}

/**
 * The value a secret reference names, or — for a `file` reference whose file does not exist yet —
 * a fresh random value (32 bytes, base64url) to be written there with {@link writeGeneratedSecret}.
 * An `env` reference must be set: realm-sync cannot put a value into the caller's environment.
 */
export function provisionSecret(ref: SecretRef, opts: ResolveSecretOptions): ProvisionedSecret {
  if ("file" in ref) {
    const path = isAbsolute(ref.file) ? ref.file : resolve(opts.baseDir, ref.file);
    if (!existsSync(path)) return { value: randomBytes(32).toString("base64url"), generate: path };
  }
  return { value: resolveSecret(ref, opts) };
}

/** Writes a generated secret to a new file, readable by its owner only (mode 0600); refuses to overwrite. */
export function writeGeneratedSecret(path: string, value: string): void {
  try {
    writeFileSync(path, `${value}\n`, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code ?? "unwritable";
    throw new TrustDomainError("SECRET_UNAVAILABLE", `cannot write secret file ${path} (${code})`, { cause });
  }
}
