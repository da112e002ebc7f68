/**
 * The chat-completions request, checked as the service checks it, and a deterministic answer that
 * is plainly an emulator's (no model runs), in the response shape of the Azure OpenAI REST
 * reference (`chat.completion`: `id`, `object`, `created`, `model`, `choices[].message`,
 * `finish_reason`, `usage`). Pure.
 */
import { AzureOpenAiError } from "./errors.ts";

export interface Deployment {
  name: string;
  model: string;
  version: string;
}

const ROLES = new Set(["system", "developer", "user", "assistant", "tool", "function"]);
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const words = (text: string) => text.split(/\s+/).filter((w) => w !== "").length;

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join(" ");
  return "";
}

export interface ChatAnswer {
  response: Record<string, unknown>;
  promptTokens: number;
  completionTokens: number;
}

export function chatCompletion(deployment: Deployment, body: unknown, now: Date, id: string): ChatAnswer {
  if (!isRecord(body)) throw new AzureOpenAiError("InvalidRequest", "The request body must be a JSON object.");
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new AzureOpenAiError("InvalidRequest", "'messages' is a required property and must be a non-empty array.", "messages");
  messages.forEach((m, i) => {
    if (!isRecord(m) || typeof m.role !== "string" || !ROLES.has(m.role))
      throw new AzureOpenAiError("InvalidRequest", `Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`);
  });
  const limitKey = body.max_completion_tokens !== undefined ? "max_completion_tokens" : "max_tokens";
  const limit = body[limitKey];
  if (limit !== undefined && limit !== null && (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1)) {
    throw new AzureOpenAiError("InvalidRequest", `Invalid '${limitKey}': must be an integer of at least 1.`, limitKey);
  }
  const last = messages[messages.length - 1] as Record<string, unknown>;
  const full = `[local Azure OpenAI emulator, no model ran] deployment ${deployment.name} (${deployment.model} ${deployment.version}) received ${messages.length} message(s); the last one had ${words(textOf(last.content))} word(s).`;
  const all = full.split(" ");
  const cut = typeof limit === "number" && all.length > limit;
  const text = cut ? all.slice(0, limit).join(" ") : full;
  const promptTokens = messages.reduce((n: number, m) => n + words(textOf((m as Record<string, unknown>).content)), 0);
  const completionTokens = words(text);
  return {
    promptTokens,
    completionTokens,
    response: {
      id,
      object: "chat.completion",
      created: Math.floor(now.getTime() / 1000),
      model: `${deployment.model}-${deployment.version}`,
      system_fingerprint: "fp_kcb_local",
      choices: [
        { index: 0, finish_reason: cut ? "length" : "stop", logprobs: null, message: { role: "assistant", content: text, refusal: null } },
      ],
      usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
    },
  };
}
