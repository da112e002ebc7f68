/**
 * Environment overrides of the config file. Every `CLOUD_BROKER_*` variable the broker reads is in
 * {@link ENV_VARS} (which `--help` prints); any other `CLOUD_BROKER_*` variable is an error, so a
 * typo never silently falls back to a default.
 */
import type { ConfigPath } from "../../realm-config/model/path.ts";

export interface EnvVar {
  name: string;
  /** What `--help` says about it. */
  doc: string;
  /** The config path it sets, for error messages; undefined for variables read elsewhere. */
  path?: ConfigPath;
  kind?: "string" | "integer" | "boolean";
}

type Raw = Record<string, unknown>;

export const ENV_VARS: readonly EnvVar[] = [
  { name: "CLOUD_BROKER_CONFIG", doc: "path of the YAML config file (same as --config)" },
  { name: "CLOUD_BROKER_ISSUER", doc: "issuer (the trust domain's Keycloak realm URL)", path: ["issuer"] },
  { name: "CLOUD_BROKER_CLIENT_ID", doc: "clientId (the workload's Keycloak client)", path: ["clientId"] },
  {
    name: "CLOUD_BROKER_KUBERNETES_TOKEN_FILE",
    doc: "authentication.kubernetes.tokenFile (replaces any other authentication method)",
    path: ["authentication", "kubernetes", "tokenFile"],
  },
  {
    name: "CLOUD_BROKER_PRIVATE_KEY_FILE",
    doc: "authentication.privateKeyJwt.keyFile (replaces any other authentication method; alg from the file or CLOUD_BROKER_PRIVATE_KEY_ALG)",
    path: ["authentication", "privateKeyJwt", "keyFile"],
  },
  { name: "CLOUD_BROKER_PRIVATE_KEY_ALG", doc: "authentication.privateKeyJwt.alg", path: ["authentication", "privateKeyJwt", "alg"] },
  {
    name: "CLOUD_BROKER_CLIENT_SECRET_FILE",
    doc: "authentication.clientSecret.file (replaces any other authentication method)",
    path: ["authentication", "clientSecret", "file"],
  },
  { name: "CLOUD_BROKER_AWS_REGION", doc: "aws.region", path: ["aws", "region"] },
  { name: "CLOUD_BROKER_STS_ENDPOINT", doc: "aws.stsEndpoint (default https://sts.<region>.amazonaws.com)", path: ["aws", "stsEndpoint"] },
  {
    name: "CLOUD_BROKER_AZURE_AUTHORITY_HOST",
    doc: "azure.authorityHost (default https://login.microsoftonline.com)",
    path: ["azure", "authorityHost"],
  },
  { name: "CLOUD_BROKER_HOST", doc: "serve.host (default 127.0.0.1)", path: ["serve", "host"] },
  { name: "CLOUD_BROKER_PORT", doc: "serve.port (default 8999)", path: ["serve", "port"], kind: "integer" },
  {
    name: "CLOUD_BROKER_ALLOW_NON_LOOPBACK",
    doc: "serve.allowNonLoopback (true|false)",
    path: ["serve", "allowNonLoopback"],
    kind: "boolean",
  },
  { name: "CLOUD_BROKER_STATE_DIR", doc: "serve.stateDir (where served files are written)", path: ["serve", "stateDir"] },
  // One per delivery mode: a deployment's base config keeps every mode off and each mode the app uses turns its own on.
  {
    name: "CLOUD_BROKER_SERVE_AWS_CONTAINER",
    doc: "serve.aws.container.enabled (true|false)",
    path: ["serve", "aws", "container", "enabled"],
    kind: "boolean",
  },
  {
    name: "CLOUD_BROKER_SERVE_AWS_CREDENTIAL_PROCESS",
    doc: "serve.aws.credentialProcess.enabled (true|false)",
    path: ["serve", "aws", "credentialProcess", "enabled"],
    kind: "boolean",
  },
  {
    name: "CLOUD_BROKER_SERVE_AWS_WEB_IDENTITY",
    doc: "serve.aws.webIdentity.enabled (true|false)",
    path: ["serve", "aws", "webIdentity", "enabled"],
    kind: "boolean",
  },
  {
    name: "CLOUD_BROKER_SERVE_AZURE_APP_SERVICE",
    doc: "serve.azure.appService.enabled (true|false)",
    path: ["serve", "azure", "appService", "enabled"],
    kind: "boolean",
  },
  {
    name: "CLOUD_BROKER_SERVE_AZURE_IMDS",
    doc: "serve.azure.imds.enabled (true|false; loopback only)",
    path: ["serve", "azure", "imds", "enabled"],
    kind: "boolean",
  },
  {
    name: "CLOUD_BROKER_SERVE_AZURE_FEDERATED_TOKEN_FILE",
    doc: "serve.azure.federatedTokenFile.enabled (true|false)",
    path: ["serve", "azure", "federatedTokenFile", "enabled"],
    kind: "boolean",
  },
  { name: "CLOUD_BROKER_LOG_LEVEL", doc: "log.level (debug|info|warn|error)", path: ["log", "level"] },
];

const AUTH_METHOD_BY_VAR: Record<string, string> = {
  CLOUD_BROKER_KUBERNETES_TOKEN_FILE: "kubernetes",
  CLOUD_BROKER_PRIVATE_KEY_FILE: "privateKeyJwt",
  CLOUD_BROKER_CLIENT_SECRET_FILE: "clientSecret",
};

export interface EnvIssue {
  env: string;
  message: string;
}

function isRecord(value: unknown): value is Raw {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function setPath(target: Raw, path: ConfigPath, value: unknown): void {
  let node = target;
  path.slice(0, -1).forEach((segment) => {
    const key = String(segment);
    if (!isRecord(node[key])) node[key] = {};
    node = node[key] as Raw;
  });
  node[String(path[path.length - 1])] = value;
}

function convert(v: EnvVar, value: string): { value: unknown } | { error: string } {
  if (v.kind === "integer") {
    return /^\d+$/.test(value.trim()) ? { value: Number(value.trim()) } : { error: `must be an integer, got "${value}"` };
  }
  if (v.kind === "boolean") {
    const b = value.trim().toLowerCase();
    return b === "true" || b === "false" ? { value: b === "true" } : { error: `must be true or false, got "${value}"` };
  }
  return { value };
}

/**
 * Applies the `CLOUD_BROKER_*` variables of `env` on top of the parsed file (a fresh object is
 * returned). An authentication variable replaces the file's method unless it is the same method,
 * whose other fields (alg, kid, method) are kept.
 */
export function applyEnv(
  raw: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { raw: Raw; issues: EnvIssue[]; applied: string[] } {
  const out: Raw = isRecord(raw) ? structuredClone<Raw>(raw) : {};
  const issues: EnvIssue[] = [];
  const applied: string[] = [];
  const known = new Map(ENV_VARS.map((v) => [v.name, v]));

  for (const name of Object.keys(env).sort()) {
    if (name.startsWith("CLOUD_BROKER_") && !known.has(name)) {
      issues.push({ env: name, message: `unknown variable (known: ${ENV_VARS.map((v) => v.name).join(", ")})` });
    }
  }

  const authVars = Object.keys(AUTH_METHOD_BY_VAR)
    .filter((name) => env[name] !== undefined && env[name] !== "")
    .sort();
  const conflicting = authVars.length > 1;
  if (conflicting) {
    issues.push({ env: authVars.join(", "), message: "at most one authentication method may be set from the environment" });
  } else if (authVars.length === 1) {
    const method = AUTH_METHOD_BY_VAR[authVars[0] ?? ""] ?? "";
    const current = isRecord(out.authentication) ? out.authentication : {};
    out.authentication = { [method]: isRecord(current[method]) ? current[method] : {} };
  }

  for (const v of ENV_VARS) {
    const value = env[v.name];
    if (!v.path || value === undefined || value === "") continue;
    if (conflicting && v.name in AUTH_METHOD_BY_VAR) continue;
    const converted = convert(v, value);
    if ("error" in converted) {
      issues.push({ env: v.name, message: converted.error });
      continue;
    }
    setPath(out, v.path, converted.value);
    applied.push(v.name);
  }
  return { raw: out, issues, applied };
}
