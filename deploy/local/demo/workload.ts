/**
 * The demo's example workload: application code that knows nothing about Keycloak or the broker.
 * It calls a Bedrock model and an Azure OpenAI deployment with the unmodified SDKs and their default
 * credential chains; the environment (`cloud-broker env` plus the endpoints of `npm run stack -- env`)
 * is what points them at the sidecar and at the local clouds.
 *
 * Env: the SDKs' own variables, plus BEDROCK_MODEL_ID and AZURE_OPENAI_DEPLOYMENT (the model and the
 * deployment this workload may use). Prints one JSON line: what each model answered, or the error.
 */
import { BedrockRuntimeClient, ConverseCommand } from "@aws-sdk/client-bedrock-runtime";
import { DefaultAzureCredential, getBearerTokenProvider } from "@azure/identity";
import { AzureOpenAI } from "openai";

interface Outcome {
  ok: boolean;
  detail: Record<string, unknown>;
}

const PROMPT = "Summarise yesterday's payments in one sentence.";

async function bedrock(modelId: string): Promise<Outcome> {
  // Default chain: the container-credentials variables lead it to the sidecar;
  // AWS_ENDPOINT_URL_BEDROCK_RUNTIME to the local Bedrock.
  const client = new BedrockRuntimeClient({});
  const out = await client.send(new ConverseCommand({ modelId, messages: [{ role: "user", content: [{ text: PROMPT }] }] }));
  return { ok: true, detail: { modelId, text: out.output?.message?.content?.[0]?.text, usage: out.usage } };
}

async function azureOpenAi(deployment: string): Promise<Outcome> {
  // AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION are read by the client itself.
  const azureADTokenProvider = getBearerTokenProvider(new DefaultAzureCredential(), "https://cognitiveservices.azure.com/.default");
  const client = new AzureOpenAI({ azureADTokenProvider, deployment, maxRetries: 0 });
  const out = await client.chat.completions.create({ model: deployment, messages: [{ role: "user", content: PROMPT }] });
  return { ok: true, detail: { deployment, text: out.choices[0]?.message.content, usage: out.usage } };
}

async function attempt(fn: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await fn();
  } catch (error) {
    const e = error as Error & { status?: number };
    return { ok: false, detail: { error: e.name, ...(e.status !== undefined && { status: e.status }), message: e.message.split("\n")[0] } };
  }
}

const result: Record<string, Outcome> = {};
if (process.env.BEDROCK_MODEL_ID) result.bedrock = await attempt(() => bedrock(process.env.BEDROCK_MODEL_ID!));
if (process.env.AZURE_OPENAI_DEPLOYMENT) result.azureOpenAi = await attempt(() => azureOpenAi(process.env.AZURE_OPENAI_DEPLOYMENT!));
process.stdout.write(JSON.stringify(result) + "\n");
