/**
 * The demo's example workload: application code that knows nothing about Keycloak or the broker.
 * It uses only the unmodified AWS and Azure SDKs with their default credential chains; the
 * environment (printed by `cloud-broker env`) is what points them at the sidecar.
 *
 * Prints one JSON line: what each cloud said the caller is.
 */
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { DefaultAzureCredential } from "@azure/identity";

interface Outcome {
  ok: boolean;
  detail: Record<string, unknown>;
}

async function aws(): Promise<Outcome> {
  // Default chain: the container-credentials variables lead it to the sidecar.
  const sts = new STSClient({});
  const started = Date.now();
  const who = await sts.send(new GetCallerIdentityCommand({}));
  const creds = await sts.config.credentials();
  return { ok: true, detail: { arn: who.Arn, account: who.Account, expires: creds.expiration?.toISOString(), ms: Date.now() - started } };
}

async function azure(scope: string, resourceUrl: string): Promise<Outcome> {
  const credential = new DefaultAzureCredential();
  const started = Date.now();
  const token = await credential.getToken(scope);
  const res = await fetch(resourceUrl, { headers: { authorization: `Bearer ${token.token}` } });
  const body = (await res.json()) as Record<string, unknown>;
  return { ok: res.status === 200, detail: { status: res.status, ...body, expires: new Date(token.expiresOnTimestamp).toISOString(), ms: Date.now() - started } };
}

async function attempt(fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (error) {
    return { ok: false, detail: { error: (error as Error).name, message: (error as Error).message.split("\n")[0] } };
  }
}

const result: Record<string, Outcome> = {};
if (process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI || process.env.AWS_WEB_IDENTITY_TOKEN_FILE || process.env.AWS_CONFIG_FILE) {
  result.aws = await attempt(aws);
}
if (process.env.DEMO_AZURE_SCOPE && process.env.DEMO_AZURE_RESOURCE_URL) {
  result.azure = await attempt(() => azure(process.env.DEMO_AZURE_SCOPE!, process.env.DEMO_AZURE_RESOURCE_URL!));
}
process.stdout.write(JSON.stringify(result) + "\n");
