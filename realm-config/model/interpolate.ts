/**
 * `${VAR}` interpolation, allowed only where a value differs per deployment but is not a secret:
 * the `issuer` and each cluster's `adminUrl`. Everywhere else a `${…}` stays literal text.
 */
import { error, warning, type PathIssue } from "./issues.ts";
import type { ConfigPath } from "./path.ts";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export interface InterpolateOptions {
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Whether an unset variable in a cluster's `adminUrl` is an error (commands that talk to the
   * clusters) or only a warning (offline commands: `validate`, `export-trust`). An unset variable
   * in `issuer` is always an error: everything offline depends on the issuer too.
   */
  requireAdminUrls: boolean;
}

function substitute(value: string, env: InterpolateOptions["env"]): { value: string; missing: string[] } {
  const missing: string[] = [];
  const out = value.replace(REFERENCE, (whole, name: string) => {
    const v = env[name];
    if (v === undefined || v === "") {
      missing.push(name);
      return whole;
    }
    return v;
  });
  return { value: out, missing };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Returns a copy of `data` with the references replaced, and an issue per unset variable. */
export function interpolateEnv(data: unknown, opts: InterpolateOptions): { data: unknown; issues: PathIssue[] } {
  if (!isRecord(data)) return { data, issues: [] };
  const issues: PathIssue[] = [];
  const out: Record<string, unknown> = { ...data };

  const apply = (value: unknown, path: ConfigPath, required: boolean): unknown => {
    if (typeof value !== "string") return value;
    const r = substitute(value, opts.env);
    for (const name of r.missing) {
      const message = `environment variable ${name} is not set (referenced as \${${name}})`;
      issues.push(required ? error(path, message) : warning(path, `${message}; needed by plan, apply and check`));
    }
    return r.value;
  };

  out.issuer = apply(data.issuer, ["issuer"], true);
  if (Array.isArray(data.clusters)) {
    out.clusters = data.clusters.map((c: unknown, i) =>
      isRecord(c) ? { ...c, adminUrl: apply(c.adminUrl, ["clusters", i, "adminUrl"], opts.requireAdminUrls) } : c,
    );
  }
  return { data: out, issues };
}
