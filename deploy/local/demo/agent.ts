/**
 * The demo's agent: an automation acting FOR a workload. It holds its own Keycloak client (client
 * secret), is handed the workload's token, and asks the workload's sidecar (RFC 8693 token exchange,
 * POST /v1/token) for narrower cloud access. With what `/v1/token` issued it calls Bedrock through
 * the unmodified AWS SDK and Azure OpenAI through the unmodified `openai` SDK: once a model its
 * narrowed access allows, once one it does not.
 *
 * Env: ISSUER, AGENT_CLIENT_ID, AGENT_SECRET_FILE, SUBJECT_TOKEN_FILE, BROKER_URL, AWS_ROLE,
 * AZURE_IDENTITY, AWS_ENDPOINT_URL_BEDROCK_RUNTIME, AWS_REGION, AZURE_OPENAI_ENDPOINT,
 * OPENAI_API_VERSION, BEDROCK_MODELS and AZURE_OPENAI_DEPLOYMENTS (comma-separated, tried in turn).
 * Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { AzureOpenAI } from "openai";

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const JWT = "urn:ietf:params:oauth:token-type:jwt";
const PROMPT = "Draft the monthly report outline.";

async function agentToken(): Promise<string> {
  const res = await fetch(`${env("ISSUER")}/protocol/openid-connect/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: env("AGENT_CLIENT_ID"),
      client_secret: readFileSync(env("AGENT_SECRET_FILE"), "utf8"),
      scope: "kcb-agents",
    }),
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

async function attempt(fn: () => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
  try {
    return { ok: true, ...(await fn()) };
  } catch (error) {
    const e = error as Error & { status?: number };
    return { ok: false, error: e.name, ...(e.status !== undefined && { status: e.status }), message: e.message.split("\n")[0] };
  }
}

async function bedrock(): Promise<Record<string, unknown>> {
  const issued = await exchange(env("AWS_ROLE"), "urn:kcb:params:oauth:token-type:aws-credentials");
  // The issued token is base64url JSON in the credential_process shape (broker/agents/README.md).
  const doc = JSON.parse(Buffer.from(String(issued.access_token), "base64url").toString("utf8")) as Record<string, string>;
  const client = new BedrockRuntimeClient({
    credentials: { accessKeyId: doc.AccessKeyId!, secretAccessKey: doc.SecretAccessKey!, sessionToken: doc.SessionToken! },
  });
  const calls: Record<string, unknown> = {};
  for (const modelId of env("BEDROCK_MODELS").split(",")) {
    calls[modelId] = await attempt(async () => {
      const out = await client.send(new ConverseCommand({ modelId, messages: [{ role: "user", content: [{ text: PROMPT }] }] }));
      return { text: out.output?.message?.content?.[0]?.text };
    });
  }
  return { expiresIn: issued.expires_in, calls };
}

async function azureOpenAi(): Promise<Record<string, unknown>> {
  const issued = await exchange(env("AZURE_IDENTITY"), "urn:ietf:params:oauth:token-type:access_token");
  const token = String(issued.access_token);
  const client = new AzureOpenAI({ azureADTokenProvider: () => Promise.resolve(token), maxRetries: 0 });
  const calls: Record<string, unknown> = {};
  for (const deployment of env("AZURE_OPENAI_DEPLOYMENTS").split(",")) {
    calls[deployment] = await attempt(async () => {
      const out = await client.chat.completions.create({ model: deployment, messages: [{ role: "user", content: PROMPT }] });
      return { text: out.choices[0]?.message.content };
    });
  }
  return { expiresIn: issued.expires_in, scope: issued.scope, calls };
}

process.stdout.write(JSON.stringify({ bedrock: await attempt(bedrock), azureOpenAi: await attempt(azureOpenAi) }) + "\n");
