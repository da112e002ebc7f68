/**
 * `cloud-broker env`: exactly the environment a workload needs for one delivery mode, as shell
 * `export` lines, a dotenv file or JSON. Pure apart from reading a secret file for the formats that
 * cannot defer it to the shell.
 *
 * Variable names verified in the SDK sources: AWS JS v3 and botocore read
 * `AWS_CONTAINER_CREDENTIALS_FULL_URI`, `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`,
 * `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME`, `AWS_CONFIG_FILE`,
 * `AWS_PROFILE`, the region as `AWS_REGION` (JS) and `AWS_DEFAULT_REGION` (botocore reads only
 * that one); `@azure/identity` (MSAL Node) and azure-identity for Python read `IDENTITY_ENDPOINT`
 * + `IDENTITY_HEADER` (App Service), `AZURE_POD_IDENTITY_AUTHORITY_HOST` (IMDS base URL, the path
 * is appended, so no trailing slash), `AZURE_FEDERATED_TOKEN_FILE`, `AZURE_CLIENT_ID`,
 * `AZURE_TENANT_ID`, `AZURE_AUTHORITY_HOST`; `DefaultAzureCredential` passes `AZURE_CLIENT_ID` on to
 * the managed-identity request as `client_id`.
 */
import type { AwsTargetRef, AzureTargetRef } from "../credentials.ts";
import { BrokerError } from "../errors.ts";
import { awsContainerUrl } from "./aws-container.ts";
import { AZURE_APP_SERVICE_PATH } from "./azure-app-service.ts";
import type { ServeOptions } from "./options.ts";
import { shellQuote } from "./shell-quote.ts";

export const ENV_MODES = [
  "aws-container",
  "aws-web-identity",
  "aws-credential-process",
  "azure-app-service",
  "azure-imds",
  "azure-workload-identity",
] as const;
export type EnvMode = (typeof ENV_MODES)[number];

/** Whether `options` serve `mode`. Pure. */
export function modeEnabled(mode: EnvMode, options: ServeOptions): boolean {
  switch (mode) {
    case "aws-container":
      return options.aws.container !== undefined;
    case "aws-web-identity":
      return options.aws.webIdentity !== undefined;
    case "aws-credential-process":
      return options.aws.credentialProcess !== undefined;
    case "azure-app-service":
      return options.azure.appService !== undefined;
    case "azure-imds":
      return options.azure.imds !== undefined;
    case "azure-workload-identity":
      return options.azure.federatedTokenFile !== undefined;
  }
}

/** The delivery modes `options` serve, in {@link ENV_MODES} order. Pure. */
export function enabledModes(options: ServeOptions): EnvMode[] {
  return ENV_MODES.filter((mode) => modeEnabled(mode, options));
}

export const ENV_FORMATS = ["env", "dotenv", "json"] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

/** One variable: a literal, or the content of a file the broker wrote (a secret the workload reads at start). */
export type EnvVar = { name: string; value: string } | { name: string; file: string };

export interface EnvTargets {
  aws: readonly AwsTargetRef[];
  azure: readonly AzureTargetRef[];
}

/** The base URL workloads use to reach the credential listener (always a loopback literal). */
export function localBaseUrl(options: Pick<ServeOptions, "host" | "port">): string {
  const host = options.host.includes(":") ? `[${options.host}]` : options.host === "localhost" ? "127.0.0.1" : options.host;
  return `http://${host}:${options.port}`;
}

function notEnabled(mode: EnvMode): BrokerError {
  return new BrokerError("CONFIG_INVALID", `delivery mode ${mode} is not enabled in the configuration`);
}

function pick<T extends { name: string }>(list: readonly T[], wanted: string | undefined, cloud: string): T {
  const found = wanted === undefined ? list[0] : list.find((t) => t.name === wanted);
  if (!found)
    throw new BrokerError(
      "UNKNOWN_TARGET",
      wanted === undefined ? `no ${cloud} target is configured` : `no ${cloud} target named ${wanted}`,
    );
  return found;
}

/**
 * The variables for `mode` (and `target`, default: the first target of the cloud; for Azure the
 * configured default identity).
 *
 * @example
 * envFor("aws-container", options, { aws: source.awsTargets, azure: source.azureTargets }, "s3-reader");
 * // [{ name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: "http://127.0.0.1:8999/v1/aws/credentials/s3-reader" }, …]
 */
export function envFor(mode: EnvMode, options: ServeOptions, targets: EnvTargets, target?: string): EnvVar[] {
  const { aws, azure } = options;
  // The JS SDK reads AWS_REGION, botocore only AWS_DEFAULT_REGION.
  const region = aws.region
    ? [
        { name: "AWS_REGION", value: aws.region },
        { name: "AWS_DEFAULT_REGION", value: aws.region },
      ]
    : [];
  const azureTarget = () => pick(targets.azure, target ?? azure.defaultTarget, "Azure");
  switch (mode) {
    case "aws-container": {
      if (!aws.container) throw notEnabled(mode);
      const t = pick(targets.aws, target, "AWS");
      return [
        { name: "AWS_CONTAINER_CREDENTIALS_FULL_URI", value: awsContainerUrl(localBaseUrl(options), t.name) },
        { name: "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", value: aws.container.authTokenFile },
        ...region,
      ];
    }
    case "aws-web-identity": {
      if (!aws.webIdentity) throw notEnabled(mode);
      const t = pick(targets.aws, target, "AWS");
      return [
        { name: "AWS_WEB_IDENTITY_TOKEN_FILE", value: aws.webIdentity.tokenFile },
        { name: "AWS_ROLE_ARN", value: t.roleArn },
        ...(aws.webIdentity.roleSessionName ? [{ name: "AWS_ROLE_SESSION_NAME", value: aws.webIdentity.roleSessionName }] : []),
        ...region,
      ];
    }
    case "aws-credential-process": {
      if (!aws.credentialProcess) throw notEnabled(mode);
      const profile = target === undefined ? [] : [{ name: "AWS_PROFILE", value: pick(targets.aws, target, "AWS").name }];
      return [{ name: "AWS_CONFIG_FILE", value: aws.credentialProcess.configFile }, ...profile, ...region];
    }
    case "azure-app-service": {
      if (!azure.appService) throw notEnabled(mode);
      return [
        { name: "IDENTITY_ENDPOINT", value: `${localBaseUrl(options)}${AZURE_APP_SERVICE_PATH}` },
        { name: "IDENTITY_HEADER", file: azure.appService.secretFile },
        { name: "AZURE_CLIENT_ID", value: azureTarget().clientId },
      ];
    }
    case "azure-imds": {
      if (!azure.imds) throw notEnabled(mode);
      return [
        { name: "AZURE_POD_IDENTITY_AUTHORITY_HOST", value: localBaseUrl(options) },
        { name: "AZURE_CLIENT_ID", value: azureTarget().clientId },
      ];
    }
    case "azure-workload-identity": {
      if (!azure.federatedTokenFile) throw notEnabled(mode);
      const t = azureTarget();
      return [
        { name: "AZURE_FEDERATED_TOKEN_FILE", value: azure.federatedTokenFile.tokenFile },
        { name: "AZURE_CLIENT_ID", value: t.clientId },
        { name: "AZURE_TENANT_ID", value: t.tenantId },
        { name: "AZURE_AUTHORITY_HOST", value: azure.authorityHost },
      ];
    }
  }
}

/**
 * `vars` in `format`. `env` defers file-held secrets to the workload's shell
 * (`export IDENTITY_HEADER="$(cat '/path')"`), so nothing secret is printed; `dotenv` and `json`
 * cannot, so they print the secret itself, read with `readFile`.
 */
export function renderEnv(vars: readonly EnvVar[], format: EnvFormat, readFile?: (path: string) => string): string {
  const valueOf = (v: EnvVar): string => {
    if ("value" in v) return v.value;
    if (!readFile) throw new TypeError(`${format} output needs to read ${v.file}`);
    return readFile(v.file);
  };
  switch (format) {
    case "env":
      return (
        vars
          .map((v) => ("file" in v ? `export ${v.name}="$(cat ${shellQuote(v.file)})"` : `export ${v.name}=${shellQuote(v.value)}`))
          .join("\n") + "\n"
      );
    case "dotenv":
      return (
        vars
          .map((v) => {
            const value = valueOf(v);
            // Single quotes are literal in both dotenv (Node) and python-dotenv; a value that needs escaping has no portable form.
            if (/['\n\r]/.test(value)) throw new TypeError(`${v.name}: value cannot be written as dotenv`);
            return `${v.name}='${value}'`;
          })
          .join("\n") + "\n"
      );
    case "json":
      return JSON.stringify(Object.fromEntries(vars.map((v) => [v.name, valueOf(v)])), null, 2) + "\n";
  }
}
