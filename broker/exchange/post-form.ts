/**
 * One `application/x-www-form-urlencoded` POST (or one GET) over node:http(s), for the token
 * endpoints the sidecar calls: STS Query API, Entra v2.0, Keycloak's discovery and token endpoint.
 * Each is a single plain request, so this replaces the cloud SDKs and Node's fetch (undici: about
 * 8 MB resident and a WebAssembly HTTP parser compiled at the first call). No retries here: the
 * callers' retry loops are the one loop.
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

export interface RequestOptions {
  timeoutMs: number;
  agent?: HttpAgent | HttpsAgent;
  headers?: Record<string, string>;
}

export function postForm(url: string, form: URLSearchParams, options: RequestOptions): Promise<FormAnswer> {
  const body = form.toString();
  return send("POST", url, body, {
    ...options,
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      "content-length": String(Buffer.byteLength(body)),
      accept: "*/*",
      ...options.headers,
    },
  });
}

/** One GET (e.g. an OpenID discovery document). */
export function getText(url: string, options: RequestOptions): Promise<FormAnswer> {
  return send("GET", url, undefined, { ...options, headers: { accept: "application/json", ...options.headers } });
}

function send(method: "GET" | "POST", url: string, body: string | undefined, options: RequestOptions): Promise<FormAnswer> {
  const target = new URL(url);
  const request = target.protocol === "http:" ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      {
        method,
        ...(options.headers && { headers: options.headers }),
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
