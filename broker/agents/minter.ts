/**
 * The agents' {@link CloudMinter}: the broker core's STS and Entra exchangers (`broker/exchange/`),
 * with the same retries and error classification the workload's own credentials use. The one
 * minter: `cloud-broker serve` builds it from the config (`cli/agents.ts`, {@link minterOptions}),
 * the integration test builds it the same way, pointed at the cloud emulators.
 *
 * @example
 * const minter = cloudMinter({ region: "eu-west-1", authorityHost: "https://login.microsoftonline.com", timeoutMs: 10_000, maxAttempts: 3 });
 */
import { createStsExchanger } from "../exchange/aws-sts.ts";
import { createEntraExchanger } from "../exchange/azure-entra.ts";
import type { CloudMinter } from "./ports.ts";

export interface CloudMinterOptions {
  /** AWS region of the STS endpoint. */
  region: string;
  /** Defaults to the regional endpoint `https://sts.<region>.amazonaws.com`. */
  stsEndpoint?: string;
  /** Entra authority, e.g. `https://login.microsoftonline.com`. */
  authorityHost: string;
  timeoutMs: number;
  maxAttempts: number;
}

export function cloudMinter(options: CloudMinterOptions): CloudMinter {
  const { region, stsEndpoint, authorityHost, timeoutMs, maxAttempts } = options;
  const sts = createStsExchanger({ region, ...(stsEndpoint !== undefined && { endpoint: stsEndpoint }), timeoutMs, maxAttempts });
  const entra = createEntraExchanger({ authorityHost, timeoutMs, maxAttempts });
  return {
    assumeRole: (request) => sts.assumeRole(request),
    azureToken: (request) => entra.getToken(request),
  };
}
