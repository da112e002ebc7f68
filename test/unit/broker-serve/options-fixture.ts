import type { ServeOptions } from "../../../broker/serve/options.ts";

/** Every protocol on, files under `dir`. */
export function allOn(dir = "/run/cloud-broker"): ServeOptions {
  return {
    host: "127.0.0.1",
    port: 8999,
    fileMode: 0o600,
    retryAfterSeconds: 2,
    aws: {
      container: { authTokenFile: `${dir}/aws-container-token` },
      credentialProcess: { configFile: `${dir}/aws-config`, command: ["/opt/cloud-broker/bin/cloud-broker", "credential-process"] },
      webIdentity: { tokenFile: `${dir}/aws-web-identity-token`, rewriteBeforeExpirySeconds: 300, roleSessionName: "orders-api" },
      region: "eu-west-1",
    },
    azure: {
      appService: { secretFile: `${dir}/azure-identity-header` },
      imds: { enabled: true },
      federatedTokenFile: { tokenFile: `${dir}/azure-federated-token`, rewriteBeforeExpirySeconds: 900 },
      authorityHost: "https://login.microsoftonline.com/",
    },
  };
}
