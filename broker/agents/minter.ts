/**
 * The agents' {@link CloudMinter} from the broker core's exchangers (`broker/exchange/`): the same
 * STS and Entra adapters, retries and error classification the workload's own credentials use.
 *
 * @example
 * const minter = cloudMinter(createStsExchanger({ region, timeoutMs, maxAttempts }), createEntraExchanger({ authorityHost, timeoutMs, maxAttempts }));
 */
import type { AwsExchanger } from "../exchange/aws-sts.ts";
import type { AzureExchanger } from "../exchange/azure-entra.ts";
import type { CloudMinter } from "./ports.ts";

export function cloudMinter(aws: AwsExchanger, azure: AzureExchanger): CloudMinter {
  return {
    assumeRole: (request) => aws.assumeRole(request),
    azureToken: (request) => azure.getToken(request),
  };
}
