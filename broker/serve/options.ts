/**
 * What the serving layer needs to know: where it listens, which delivery protocols are on, and
 * where the files the workload reads live. The broker's config (`broker/config/serve-options.ts`) maps onto this; everything here is plain
 * data, validated by {@link serveOptionIssues} (pure) before anything binds or writes.
 */
import { isLoopbackHost } from "./loopback.ts";

/** Mode bits of every file the broker writes for the workload (token files, secrets, AWS config). */
export type SharedFileMode = 0o600 | 0o640;

export interface AwsServeOptions {
  /**
   * Container-credentials endpoint `GET /v1/aws/credentials/<target>` for
   * `AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`.
   */
  container?: {
    /** Written at start: a fresh random secret, no trailing newline. The SDK re-reads it per request. */
    authTokenFile: string;
  };
  /**
   * `credential_process`: the broker writes an AWS config file with one profile per AWS target whose
   * `credential_process` runs `command … --target <name>`, which fetches from the container endpoint
   * (so `container` must be on too).
   */
  credentialProcess?: {
    configFile: string;
    /** argv of the subcommand as the workload can run it, e.g. `["/opt/cloud-broker/bin/cloud-broker", "credential-process"]`. */
    command: readonly string[];
  };
  /** `AWS_WEB_IDENTITY_TOKEN_FILE`: the workload's AWS-audience Keycloak token, rewritten before expiry. */
  webIdentity?: {
    tokenFile: string;
    /** Rewrite when the token in the file has less than this left. */
    rewriteBeforeExpirySeconds: number;
    /** `AWS_ROLE_SESSION_NAME` for the workload's SDK (2–64 chars of `[\w+=,.@-]`). */
    roleSessionName?: string;
  };
  /** `AWS_REGION` and `AWS_DEFAULT_REGION` printed by `env` (every SDK call needs a region); omitted when unset. */
  region?: string;
}

export interface AzureServeOptions {
  /** The identity used when a request names no `client_id` (the "system-assigned" one). Defaults to the first Azure target. */
  defaultTarget?: string;
  /** App Service managed-identity endpoint `GET /v1/azure/msi/token` (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`). */
  appService?: {
    /** The `X-IDENTITY-HEADER` secret; kept across sidecar restarts because the workload holds it in its environment. */
    secretFile: string;
  };
  /** IMDS-compatible endpoint `GET /metadata/identity/oauth2/token` (`AZURE_POD_IDENTITY_AUTHORITY_HOST`). No secret: loopback only. */
  imds?: { enabled: true };
  /** `AZURE_FEDERATED_TOKEN_FILE`: the workload's Azure-audience Keycloak token, rewritten before expiry. */
  federatedTokenFile?: {
    tokenFile: string;
    rewriteBeforeExpirySeconds: number;
  };
  /** `AZURE_AUTHORITY_HOST` printed for the workload-identity mode. */
  authorityHost: string;
}

export interface ServeOptions {
  /** Address of the credential listener. Loopback only: the IMDS protocol carries no secret. */
  host: string;
  /**
   * Accept a non-loopback `host`: the operator's explicit choice (e.g. a node-level broker in
   * another network namespace), never a default. The secret-less IMDS endpoint stays loopback-only.
   */
  allowNonLoopback?: boolean;
  port: number;
  /**
   * Optional second listener with only `/healthz`, `/readyz` and `/metrics`, for kubelet probes and
   * Prometheus (they reach the pod IP, never the pod's loopback). Credentials are never served there.
   */
  ops?: { host: string; port: number };
  fileMode: SharedFileMode;
  /** `Retry-After` (seconds) on retryable errors. */
  retryAfterSeconds: number;
  aws: AwsServeOptions;
  azure: AzureServeOptions;
}

/**
 * Defaults, with the reasoning behind the two refresh windows:
 * - AWS web identity: the SDKs read the file only when they refresh (JS 5 min, botocore 15 min before
 *   their credentials expire) and send it to STS at once, so the file needs a valid token at every
 *   instant plus room for clock skew: 5 min.
 * - Azure federated token: `@azure/identity` (JS) keeps the file's content for 5 min and
 *   azure-identity (Python) for 10 min before re-reading, and the assertion must still be valid
 *   when it reaches Entra: 10 min cache + 5 min skew = 15 min.
 */
export const SERVE_DEFAULTS = {
  host: "127.0.0.1",
  port: 8999,
  fileMode: 0o600,
  retryAfterSeconds: 2,
  awsWebIdentityRewriteBeforeExpirySeconds: 5 * 60,
  azureFederatedTokenRewriteBeforeExpirySeconds: 15 * 60,
  azureAuthorityHost: "https://login.microsoftonline.com/",
} as const;

const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;

/** Every problem with `options`, as `path: message` strings (empty when valid). Pure. */
export function serveOptionIssues(options: ServeOptions): string[] {
  const issues: string[] = [];
  const { aws, azure } = options;
  if (!isLoopbackHost(options.host)) {
    if (options.allowNonLoopback !== true) {
      issues.push(
        `host: ${options.host} is not a loopback address; credentials must never be reachable from the network unless allowNonLoopback is set`,
      );
    } else if (options.azure.imds) {
      issues.push(`azure.imds: the IMDS endpoint has no secret header, so it is served on a loopback host only (host is ${options.host})`);
    }
  }
  for (const [path, port] of [
    ["port", options.port],
    ["ops.port", options.ops?.port],
  ] as const) {
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) issues.push(`${path}: must be an integer 0–65535`);
  }
  if (options.fileMode !== 0o600 && options.fileMode !== 0o640) issues.push("fileMode: must be 0600 or 0640");
  if (!(options.retryAfterSeconds >= 1 && Number.isInteger(options.retryAfterSeconds)))
    issues.push("retryAfterSeconds: must be a positive integer");
  if (aws.credentialProcess && !aws.container)
    issues.push("aws.credentialProcess: needs aws.container (the subcommand fetches from the container endpoint)");
  if (aws.credentialProcess && aws.credentialProcess.command.length === 0) issues.push("aws.credentialProcess.command: must not be empty");
  const sessionName = aws.webIdentity?.roleSessionName;
  if (sessionName !== undefined && !SESSION_NAME.test(sessionName))
    issues.push("aws.webIdentity.roleSessionName: 2–64 characters of [A-Za-z0-9_+=,.@-]");
  for (const [path, seconds] of [
    ["aws.webIdentity.rewriteBeforeExpirySeconds", aws.webIdentity?.rewriteBeforeExpirySeconds],
    ["azure.federatedTokenFile.rewriteBeforeExpirySeconds", azure.federatedTokenFile?.rewriteBeforeExpirySeconds],
  ] as const) {
    if (seconds !== undefined && !(seconds > 0)) issues.push(`${path}: must be positive`);
  }
  if (!/^https:\/\//.test(azure.authorityHost)) issues.push("azure.authorityHost: must be an https URL (MSAL refuses anything else)");
  const files = [
    aws.container?.authTokenFile,
    aws.credentialProcess?.configFile,
    aws.webIdentity?.tokenFile,
    azure.appService?.secretFile,
    azure.federatedTokenFile?.tokenFile,
  ].filter((f): f is string => f !== undefined);
  if (new Set(files).size !== files.length) issues.push("files: every delivery file needs its own path");
  return issues;
}
