/**
 * The broker's configuration: a YAML file plus `CLOUD_BROKER_*` environment overrides, validated
 * once at start-up by a pure function that reports every problem with its location.
 *
 * @example
 * const result = parseBrokerConfig(readFileSync(file, "utf8"), process.env, { file });
 * if (!result.ok) for (const e of result.errors) console.error(formatConfigError(e));
 */
import { dirname, isAbsolute, resolve } from "node:path";
import type { z } from "zod";
import { applyEnv, ENV_VARS } from "./config/env.ts";
import { BrokerConfigSchema, crossFieldIssues } from "./config/schema.ts";
import { toServeOptions } from "./config/serve-options.ts";
import { formatPath, type ConfigPath } from "../realm-config/model/path.ts";
import { parseYaml } from "../realm-config/model/yaml-source.ts";
import { serveOptionIssues } from "./serve/options.ts";

export { ENV_VARS } from "./config/env.ts";

export type Config = z.output<typeof BrokerConfigSchema>;
export type AwsRoleConfig = NonNullable<Config["aws"]>["roles"][number];
export type AzureIdentityConfig = NonNullable<Config["azure"]>["identities"][number];
export type AuthenticationConfig = Config["authentication"];

/** One problem, located in the file (line, column) or in the environment (the variable's name). */
export interface ConfigError {
  /** `aws.roles[0].arn`; empty for the document as a whole. */
  path: string;
  message: string;
  /** The config file, when the problem is in it. */
  file?: string;
  line?: number;
  column?: number;
  /** The environment variable, when the problem comes from one. */
  env?: string;
}

export type ParseBrokerConfigResult = { ok: true; config: Config } | { ok: false; errors: ConfigError[] };

export interface ParseBrokerConfigOptions {
  /** Name of the file `text` came from: used in errors, and relative paths in it resolve against its directory. */
  file?: string;
}

function samePath(a: ConfigPath, b: ConfigPath): boolean {
  return a.length <= b.length && a.every((segment, i) => String(segment) === String(b[i]));
}

function resolvePaths(config: Config, baseDir: string | undefined): Config {
  if (!baseDir) return config;
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const auth = config.authentication;
  return {
    ...config,
    authentication: {
      ...auth,
      ...(auth.kubernetes && { kubernetes: { ...auth.kubernetes, tokenFile: abs(auth.kubernetes.tokenFile) } }),
      ...(auth.privateKeyJwt && { privateKeyJwt: { ...auth.privateKeyJwt, keyFile: abs(auth.privateKeyJwt.keyFile) } }),
      ...(auth.clientSecret && { clientSecret: { ...auth.clientSecret, file: abs(auth.clientSecret.file) } }),
    },
    serve: resolveServePaths(config.serve, abs),
    ...(config.agents && {
      agents: {
        ...config.agents,
        realmConfigFile: abs(config.agents.realmConfigFile),
        delegationKey: { ...config.agents.delegationKey, keyFile: abs(config.agents.delegationKey.keyFile) },
        listen: { ...config.agents.listen, tls: resolveTlsPaths(config.agents.listen.tls, abs) },
      },
    }),
  };
}

function resolveTlsPaths(
  tls: NonNullable<Config["agents"]>["listen"]["tls"],
  abs: (p: string) => string,
): NonNullable<Config["agents"]>["listen"]["tls"] {
  return {
    certFile: abs(tls.certFile),
    keyFile: abs(tls.keyFile),
    ...(tls.clientCaFile !== undefined && { clientCaFile: abs(tls.clientCaFile) }),
  };
}

function resolveServePaths(serve: Config["serve"], abs: (p: string) => string): Config["serve"] {
  const withFile = <T extends object, K extends keyof T>(value: boolean | T | undefined, key: K): boolean | T | undefined => {
    if (typeof value !== "object" || typeof value[key] !== "string") return value;
    return { ...value, [key]: abs(value[key]) };
  };
  return {
    ...serve,
    stateDir: abs(serve.stateDir),
    aws: {
      ...serve.aws,
      container: withFile(serve.aws.container, "authTokenFile"),
      credentialProcess: withFile(serve.aws.credentialProcess, "configFile"),
      webIdentity: withFile(serve.aws.webIdentity, "tokenFile"),
    },
    azure: {
      ...serve.azure,
      appService: withFile(serve.azure.appService, "secretFile"),
      federatedTokenFile: withFile(serve.azure.federatedTokenFile, "tokenFile"),
    },
  };
}

/**
 * Parses and validates a config. Pure: reads no file and no global environment (the caller passes
 * `env`). Returns every error found, in document order, never just the first.
 */
export function parseBrokerConfig(
  text: string,
  env: Readonly<Record<string, string | undefined>> = {},
  options: ParseBrokerConfigOptions = {},
): ParseBrokerConfigResult {
  const { file } = options;
  const yaml = parseYaml(text);
  if (yaml.syntaxErrors.length > 0) {
    return {
      ok: false,
      errors: yaml.syntaxErrors.map((e) => ({ path: "", message: e.message, ...(file && { file }), line: e.line, column: e.column })),
    };
  }
  if (yaml.data !== undefined && yaml.data !== null && (typeof yaml.data !== "object" || Array.isArray(yaml.data))) {
    return { ok: false, errors: [{ path: "", message: "the config must be a YAML mapping", ...(file && { file }), line: 1, column: 1 }] };
  }

  const { raw, issues, applied } = applyEnv(yaml.data ?? {}, env);
  const errors: ConfigError[] = issues.map((i) => ({ path: "", message: i.message, env: i.env }));

  const parsed = BrokerConfigSchema.safeParse(raw);
  const crossField = crossFieldIssues(raw);
  if (parsed.success && errors.length === 0 && crossField.length === 0) {
    const config = resolvePaths(parsed.data, file ? dirname(file) : undefined);
    // The serving layer's own rules on what the section maps to (one source of truth for them).
    const serveIssues = serveOptionIssues(toServeOptions(config));
    if (serveIssues.length === 0) return { ok: true, config };
    return {
      ok: false,
      errors: serveIssues.map((issue) => {
        const [where = "", ...rest] = issue.split(": ");
        const path = ["serve", ...where.split(".")];
        const at = yaml.locate(path);
        return { path: formatPath(path), message: rest.join(": "), ...(file && { file }), line: at.line, column: at.column };
      }),
    };
  }
  const fromEnv = ENV_VARS.filter((v) => v.path && applied.includes(v.name));
  const schemaIssues = parsed.success
    ? []
    : parsed.error.issues.map((issue) => ({
        path: issue.path,
        message:
          issue.code === "unrecognized_keys" ? `unknown key${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}` : issue.message,
      }));
  for (const { path, message } of [...schemaIssues, ...crossField]) {
    const envVar = fromEnv.find((v) => v.path && samePath(v.path, path) && path.length === v.path.length);
    if (envVar) {
      errors.push({ path: formatPath(path), message, env: envVar.name });
    } else {
      const at = yaml.locate(path);
      errors.push({ path: formatPath(path), message, ...(file && { file }), line: at.line, column: at.column });
    }
  }
  errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
  return { ok: false, errors };
}

/** `file:line:column path: message`, or `$VAR path: message` for the environment. */
export function formatConfigError(error: ConfigError): string {
  const where = error.env ? `$${error.env}` : `${error.file ?? "<config>"}:${error.line ?? 1}:${error.column ?? 1}`;
  return error.path ? `${where} ${error.path}: ${error.message}` : `${where} ${error.message}`;
}
