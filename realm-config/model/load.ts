/**
 * Loading a trust domain: YAML with positions → `${VAR}` interpolation → schema → semantic rules.
 * Every problem is collected and thrown together as one `CONFIG_INVALID` error whose `issues`
 * carry file, line, column and YAML path, in file order.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { TrustDomainError, type ConfigIssue } from "./errors.ts";
import { interpolateEnv } from "./interpolate.ts";
import { error, type PathIssue } from "./issues.ts";
import { formatPath } from "./path.ts";
import { errorMap, schemaIssues } from "./schema-issues.ts";
import { Agent, Cluster, KubernetesIssuer, SigningKey, TrustDomain, Workload } from "./schema.ts";
import { validateTrustDomain, type TrustDomainView } from "./validate.ts";
import { parseYaml, type ConfigSource } from "./yaml-source.ts";

export { resolveSecret, describeSecretRef, type ResolveSecretOptions } from "./secrets.ts";
export type { ConfigSource } from "./yaml-source.ts";

export interface LoadOptions {
  /** Variables for `${VAR}` in `issuer` and `clusters[].adminUrl`; pass `process.env` from the entry module. */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Whether every cluster's `adminUrl` must resolve (default `true`: plan, apply, check). Offline
   * commands pass `false`, and an unset variable there is only a warning.
   */
  requireAdminUrls?: boolean;
  /** Directory a relative `file` is read from (default: the process's). Messages name `file` as given. */
  cwd?: string;
}

export interface LoadedTrustDomain {
  config: TrustDomain;
  source: ConfigSource;
  /** Problems that do not make the config invalid (e.g. an issuer with a port). */
  warnings: ConfigIssue[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function elements<T>(value: unknown, schema: { safeParse(v: unknown): { success: boolean; data?: T } }): Array<T | undefined> {
  return Array.isArray(value) ? value.map((v) => schema.safeParse(v).data) : [];
}

/** The parts of a config that pass the schema on their own, at their original indexes. */
function salvage(data: unknown): TrustDomainView {
  const obj = isRecord(data) ? data : {};
  const list = (key: string): unknown[] => (Array.isArray(obj[key]) ? obj[key] : []);
  return {
    raw: {
      clusters: list("clusters"),
      signingKeys: list("signingKeys"),
      kubernetesIssuers: list("kubernetesIssuers"),
      workloads: list("workloads"),
      agents: list("agents"),
    },
    realm: TrustDomain.shape.realm.safeParse(obj.realm).data,
    issuer: TrustDomain.shape.issuer.safeParse(obj.issuer).data,
    clusters: elements(obj.clusters, Cluster),
    signingKeys: elements(obj.signingKeys, SigningKey),
    kubernetesIssuers: elements(obj.kubernetesIssuers, KubernetesIssuer),
    workloads: elements(obj.workloads, Workload),
    agents: elements(obj.agents, Agent),
  };
}

/**
 * Parses and validates a trust domain from text (no file access). `file` is used in messages and
 * as the base of relative secret file references.
 */
export function parseTrustDomain(text: string, file: string, opts: LoadOptions): LoadedTrustDomain {
  const yaml = parseYaml(text);
  const source: ConfigSource = {
    file,
    dir: dirname(resolve(opts.cwd ?? process.cwd(), file)),
    text,
    sha256: yaml.sha256,
    locate: (path) => yaml.locate(path),
  };
  const located = (issues: PathIssue[]): ConfigIssue[] =>
    issues.map((i) => ({ file, ...yaml.locate(i.path), path: formatPath(i.path), message: i.message, severity: i.severity }));

  if (yaml.syntaxErrors.length) {
    const issues = yaml.syntaxErrors.map((e) => ({
      file,
      line: e.line,
      column: e.column,
      path: "",
      message: `YAML: ${e.message}`,
      severity: "error" as const,
    }));
    throw new TrustDomainError("CONFIG_INVALID", `${file}: not valid YAML`, { issues });
  }
  if (!isRecord(yaml.data)) {
    throw new TrustDomainError("CONFIG_INVALID", `${file}: expected a trust domain (a YAML mapping)`, {
      issues: located([
        error(
          [],
          `expected a mapping with version, realm, issuer, clusters, signingKeys …, got ${yaml.data === undefined || yaml.data === null ? "an empty document" : typeof yaml.data}`,
        ),
      ]),
    });
  }

  const interpolated = interpolateEnv(yaml.data, { env: opts.env, requireAdminUrls: opts.requireAdminUrls ?? true });
  const parsed = TrustDomain.safeParse(interpolated.data, { error: errorMap });
  const view: TrustDomainView = parsed.success ? { ...parsed.data, raw: parsed.data } : salvage(interpolated.data);
  const all = [...interpolated.issues, ...(parsed.success ? [] : schemaIssues(parsed.error)), ...validateTrustDomain(view)];

  const issues = located(all).sort((a, b) => a.line - b.line || a.column - b.column);
  const errors = issues.filter((i) => i.severity === "error");
  const warnings = issues.filter((i) => i.severity === "warning");
  if (errors.length || !parsed.success) {
    throw new TrustDomainError("CONFIG_INVALID", `${file}: ${errors.length} error${errors.length === 1 ? "" : "s"} in the trust domain`, {
      issues,
    });
  }
  return { config: parsed.data, source, warnings };
}

/**
 * Reads, parses and validates a trust-domain file. Throws `TrustDomainError` `CONFIG_INVALID` with
 * every issue found.
 *
 * @example const { config, source } = loadTrustDomain("realm-config/example/trust-domain.yaml", { env: process.env });
 */
export function loadTrustDomain(file: string, opts: LoadOptions): LoadedTrustDomain {
  let text: string;
  try {
    text = readFileSync(resolve(opts.cwd ?? process.cwd(), file), "utf8");
  } catch (cause) {
    throw new TrustDomainError("CONFIG_INVALID", `cannot read ${file} (${(cause as NodeJS.ErrnoException).code ?? "unreadable"})`, {
      cause,
    });
  }
  return parseTrustDomain(text, file, opts);
}
