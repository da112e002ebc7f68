/**
 * The demo's agent: an automation acting FOR the reporting-batch workload. It holds its own
 * Keycloak client (client secret), is handed the workload's token, and asks the workload's
 * sidecar (RFC 8693 token exchange, POST /v1/token) for narrower cloud access. It then uses the
 * unmodified AWS SDK with the issued credentials and calls an Azure API with the issued token.
 *
 * Env: ISSUER, AGENT_CLIENT_ID, AGENT_SECRET_FILE, SUBJECT_TOKEN_FILE, BROKER_URL, AWS_ROLE,
 * AZURE_IDENTITY, AZURE_RESOURCE_URL, AWS_ENDPOINT_URL_STS. Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const JWT = "urn:ietf:params:oauth:token-type:jwt";

async function agentToken(): Promise<string> {
  const res = await fetch(`${env("ISSUER")}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: env("AGENT_CLIENT_ID"), client_secret: readFileSync(env("AGENT_SECRET_FILE"), "utf8"), scope: "kcb-agents" }),
  });
  if (res.status !== 200) throw new Error(`agent token: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

async function exchange(target: string, requested: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${env("BROKER_URL")}/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: readFileSync(env("SUBJECT_TOKEN_FILE"), "utf8"),
      subject_token_type: JWT,
      actor_token: await agentToken(),
      actor_token_type: JWT,
      resource: target,
      requested_token_type: requested,
    }),
  });
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`token exchange for ${target}: HTTP ${res.status} ${String(body.error)}`);
  return body;
}

async function aws(): Promise<Record<string, unknown>> {
  const issued = await exchange(env("AWS_ROLE"), "urn:kcb:params:oauth:token-type:aws-credentials");
  // The issued token is base64url JSON in the credential_process shape (broker/agents/README.md).
  const doc = JSON.parse(Buffer.from(String(issued.access_token), "base64url").toString("utf8")) as Record<string, string>;
  const sts = new STSClient({ region: "us-east-1", credentials: { accessKeyId: doc.AccessKeyId!, secretAccessKey: doc.SecretAccessKey!, sessionToken: doc.SessionToken! } });
  const who = await sts.send(new GetCallerIdentityCommand({}));
  return { ok: true, arn: who.Arn, expiresIn: issued.expires_in, expires: doc.Expiration };
}

async function azure(): Promise<Record<string, unknown>> {
  const issued = await exchange(env("AZURE_IDENTITY"), "urn:ietf:params:oauth:token-type:access_token");
  const res = await fetch(env("AZURE_RESOURCE_URL"), { headers: { authorization: `Bearer ${String(issued.access_token)}` } });
  return { ok: res.status === 200, status: res.status, ...((await res.json()) as Record<string, unknown>), expiresIn: issued.expires_in, scope: issued.scope };
}

async function attempt(fn: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return await fn();
  } catch (error) {
    return { ok: false, error: (error as Error).message.split("\n")[0] };
  }
}

process.stdout.write(JSON.stringify({ aws: await attempt(aws), azure: await attempt(azure) }) + "\n");
