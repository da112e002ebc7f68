/**
 * The `serve` section of the config as the serving layer's {@link ServeOptions}. Pure. File paths
 * not given default to well-known names under `serve.stateDir`.
 */
import { join } from "node:path";
import type { Config } from "../config.ts";
import { localBaseUrl } from "../serve/env.ts";
import { SERVE_DEFAULTS, type ServeOptions } from "../serve/options.ts";

/** File names under `serve.stateDir`. */
export const STATE_FILES = {
  awsContainerToken: "aws-container-authorization-token",
  awsConfig: "aws-config",
  awsWebIdentityToken: "aws-web-identity-token",
  azureIdentityHeader: "azure-identity-header",
  azureFederatedToken: "azure-federated-token",
} as const;

/** How a workload runs the credential_process subcommand when the config gives no command. */
export const DEFAULT_CREDENTIAL_PROCESS_COMMAND = ["cloud-broker", "credential-process"] as const;

function settings<T extends { enabled?: boolean }>(value: boolean | T | undefined, onByDefault: boolean): T | undefined {
  if (value === undefined) return onByDefault ? ({} as T) : undefined;
  if (value === false) return undefined;
  if (value === true) return {} as T;
  return value.enabled === false ? undefined : value;
}

export function toServeOptions(config: Config): ServeOptions {
  const { serve } = config;
  const file = (given: string | undefined, name: string) => given ?? join(serve.stateDir, name);
  const hasAws = (config.aws?.roles.length ?? 0) > 0;
  const hasAzure = (config.azure?.identities.length ?? 0) > 0;

  const container = settings(serve.aws.container, hasAws);
  const credentialProcess = settings(serve.aws.credentialProcess, false);
  const webIdentity = settings(serve.aws.webIdentity, false);
  const appService = settings(serve.azure.appService, hasAzure);
  const federated = settings(serve.azure.federatedTokenFile, false);
  const imds = settings(serve.azure.imds, false);
  const authTokenFile = file(container?.authTokenFile, STATE_FILES.awsContainerToken);
  const baseUrl = localBaseUrl({ host: serve.host, port: serve.port });

  return {
    host: serve.host,
    allowNonLoopback: serve.allowNonLoopback,
    port: serve.port,
    ...(serve.ops && { ops: { host: serve.ops.host, port: serve.ops.port } }),
    fileMode: serve.fileMode === "0640" ? 0o640 : 0o600,
    retryAfterSeconds: serve.retryAfterSeconds,
    aws: {
      ...(container && { container: { authTokenFile } }),
      ...(credentialProcess && {
        credentialProcess: {
          configFile: file(credentialProcess.configFile, STATE_FILES.awsConfig),
          // Everything the subcommand needs is on its command line: the workload's container needs
          // the cloud-broker binary, not the sidecar's config.
          command: credentialProcess.command ?? [...DEFAULT_CREDENTIAL_PROCESS_COMMAND, "--url", baseUrl, "--token-file", authTokenFile],
        },
      }),
      ...(webIdentity && {
        webIdentity: {
          tokenFile: file(webIdentity.tokenFile, STATE_FILES.awsWebIdentityToken),
          rewriteBeforeExpirySeconds: webIdentity.rewriteBeforeExpirySeconds ?? SERVE_DEFAULTS.awsWebIdentityRewriteBeforeExpirySeconds,
          ...(webIdentity.roleSessionName && { roleSessionName: webIdentity.roleSessionName }),
        },
      }),
      ...(config.aws && { region: config.aws.region }),
    },
    azure: {
      ...(serve.azure.defaultTarget && { defaultTarget: serve.azure.defaultTarget }),
      ...(appService && { appService: { secretFile: file(appService.secretFile, STATE_FILES.azureIdentityHeader) } }),
      ...(imds && { imds: { enabled: true as const } }),
      ...(federated && {
        federatedTokenFile: {
          tokenFile: file(federated.tokenFile, STATE_FILES.azureFederatedToken),
          rewriteBeforeExpirySeconds: federated.rewriteBeforeExpirySeconds ?? SERVE_DEFAULTS.azureFederatedTokenRewriteBeforeExpirySeconds,
        },
      }),
      authorityHost: config.azure?.authorityHost ?? SERVE_DEFAULTS.azureAuthorityHost,
    },
  };
}
