/**
 * One `application/x-www-form-urlencoded` POST over node:http(s), for the two cloud token
 * endpoints (STS Query API, Entra v2.0 token endpoint). Both are a single unsigned form POST, so a
 * plain request replaces the cloud SDKs (most of the sidecar's memory). No retries here: the
 * adapters' `withRetries` is the one loop.
 *
 * Failures of the transport keep Node's error `code` (`ECONNREFUSED`, `ECONNRESET` …); the
 * deadline (connect + answer) rejects with an error named `TimeoutError`.
 */
import { request as httpRequest, type Agent as HttpAgent } from "node:http";
import { request as httpsRequest, type Agent as HttpsAgent } from "node:https";

export interface FormAnswer {
  status: number;
  /** The body as text (UTF-8), at most {@link MAX_ANSWER_BYTES}. */
  body: string;
}

/** A token endpoint's answer is a few kB; anything far larger is not one. */
export const MAX_ANSWER_BYTES = 1 << 20;

export function timeoutError(ms: number): Error {
  const error = new Error(`no answer within ${ms} ms`);
  error.name = "TimeoutError";
  return error;
}

export function postForm(url: string, form: URLSearchParams, options: { timeoutMs: number; agent?: HttpAgent | HttpsAgent; headers?: Record<string, string> }): Promise<FormAnswer> {
  const body = form.toString();
  const target = new URL(url);
  const send = target.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", "content-length": Buffer.byteLength(body), accept: "*/*", ...options.headers },
        ...(options.agent && { agent: options.agent }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
          else chunks.push(chunk);
        });
        res.on("end", () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    const timer = setTimeout(() => req.destroy(timeoutError(options.timeoutMs)), options.timeoutMs);
    req.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    req.end(body);
  });
}
