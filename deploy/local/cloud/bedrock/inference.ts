/**
 * The request and response bodies of Converse and InvokeModel, checked as Bedrock checks them, and
 * an answer that is deterministic and plainly an emulator's: no model runs. Shapes from the Bedrock
 * Runtime API reference / botocore `bedrock-runtime` model (Converse: `messages`, `system`,
 * `inferenceConfig` → `output.message`, `stopReason`, `usage`, `metrics`) and, for InvokeModel, the
 * Amazon Nova native request (`messages-v1`: `messages`, `system`, `inferenceConfig.max_new_tokens`)
 * and response (`output.message`, `stopReason`, `usage`). Pure.
 */
import { BedrockError } from "./errors.ts";

interface Message {
  role: "user" | "assistant";
  content: Array<Record<string, unknown>>;
}

export interface Reply {
  text: string;
  stopReason: "end_turn" | "max_tokens";
  inputTokens: number;
  outputTokens: number;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const invalid = (message: string) => new BedrockError("ValidationException", message);

/** Counts whitespace-separated words: the emulator's stand-in for a tokenizer. */
function words(text: string): number {
  return text.split(/\s+/).filter((w) => w !== "").length;
}

function messages(value: unknown, prefix: string): Message[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${prefix}messages: at least one message is required`);
  return value.map((m, i) => {
    if (!isRecord(m) || (m.role !== "user" && m.role !== "assistant"))
      throw invalid(`${prefix}messages.${i}.role: must be user or assistant`);
    if (!Array.isArray(m.content) || m.content.length === 0 || !m.content.every(isRecord))
      throw invalid(`${prefix}messages.${i}.content: at least one content block is required`);
    if (i === 0 && m.role !== "user")
      throw invalid("A conversation must start with a user message. Try again with a conversation that starts with a user message.");
    if (i > 0 && (value[i - 1] as Message).role === m.role)
      throw invalid(
        "A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.",
      );
    return m as unknown as Message;
  });
}

function textOf(blocks: ReadonlyArray<Record<string, unknown>>): string {
  return blocks.map((b) => (typeof b.text === "string" ? b.text : "")).join(" ");
}

function maxTokensOf(value: unknown, path: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw invalid(`${path}: must be an integer of at least 1`);
  return value;
}

function reply(modelId: string, conversation: Message[], system: string, maxTokens: number | undefined): Reply {
  const last = conversation[conversation.length - 1]!;
  if (last.role !== "user") throw invalid("The last message of the conversation must be a user message.");
  const prompt = textOf(last.content);
  const full = `[local Bedrock emulator, no model ran] ${modelId} received ${conversation.length} message(s); the last one had ${words(prompt)} word(s).`;
  const all = full.split(" ");
  const cut = maxTokens !== undefined && all.length > maxTokens;
  const text = cut ? all.slice(0, maxTokens).join(" ") : full;
  const input = words(system) + conversation.reduce((n, m) => n + words(textOf(m.content)), 0);
  return { text, stopReason: cut ? "max_tokens" : "end_turn", inputTokens: input, outputTokens: words(text) };
}

/** `POST /model/{modelId}/converse`: the parsed JSON body → the Converse response body. */
export function converse(modelId: string, body: unknown): { reply: Reply; response: Record<string, unknown> } {
  if (!isRecord(body)) throw invalid("Malformed input request, please reformat your input and try again.");
  const conversation = messages(body.messages, "");
  const system = Array.isArray(body.system) ? textOf(body.system.filter(isRecord)) : "";
  const config = body.inferenceConfig === undefined ? {} : body.inferenceConfig;
  if (!isRecord(config)) throw invalid("inferenceConfig: must be an object");
  const r = reply(modelId, conversation, system, maxTokensOf(config.maxTokens, "inferenceConfig.maxTokens"));
  return {
    reply: r,
    response: {
      output: { message: { role: "assistant", content: [{ text: r.text }] } },
      stopReason: r.stopReason,
      usage: { inputTokens: r.inputTokens, outputTokens: r.outputTokens, totalTokens: r.inputTokens + r.outputTokens },
      metrics: { latencyMs: 0 },
    },
  };
}

/** `POST /model/{modelId}/invoke` with an Amazon Nova native body → the Nova response body. */
export function invokeModel(modelId: string, body: unknown): { reply: Reply; response: Record<string, unknown> } {
  const malformed = (why: string) => invalid(`Malformed input request: ${why}, please reformat your input and try again.`);
  if (!isRecord(body)) throw malformed("the body is not a JSON object");
  if (body.schemaVersion !== undefined && body.schemaVersion !== "messages-v1") throw malformed("schemaVersion must be messages-v1");
  let conversation: Message[];
  try {
    conversation = messages(body.messages, "");
  } catch (error) {
    throw malformed((error as Error).message);
  }
  const system = Array.isArray(body.system) ? textOf(body.system.filter(isRecord)) : "";
  const config = body.inferenceConfig === undefined ? {} : body.inferenceConfig;
  if (!isRecord(config)) throw malformed("inferenceConfig must be an object");
  const r = reply(modelId, conversation, system, maxTokensOf(config.max_new_tokens, "inferenceConfig.max_new_tokens"));
  return {
    reply: r,
    response: {
      output: { message: { role: "assistant", content: [{ text: r.text }] } },
      stopReason: r.stopReason,
      usage: {
        inputTokens: r.inputTokens,
        outputTokens: r.outputTokens,
        totalTokens: r.inputTokens + r.outputTokens,
        cacheReadInputTokenCount: 0,
        cacheWriteInputTokenCount: 0,
      },
    },
  };
}
