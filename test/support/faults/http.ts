/**
 * A raw HTTP/1.1 client for the security tests: any method, any request-target, repeated headers,
 * a chosen `Host`, bodies of any bytes and any declared length — what `fetch` would normalise or
 * refuse to send. One connection per request (no keep-alive pool: a connection the server cut must
 * not fail the next request). Never throws on an HTTP status; a reset connection is status 0.
 * An `https:` base URL goes over TLS (the agents' listener), trusting the CAs Node trusts.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface RawRequest {
  method: string;
  /** The request-target as sent (path and query, already encoded). */
  path: string;
  /** In order; a name may repeat. */
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Uint8Array;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Set when the connection failed or was cut before a response. */
  error?: string;
}

export function send(baseUrl: string, req: RawRequest, timeoutMs = 15_000): Promise<RawResponse> {
  const url = new URL(baseUrl);
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  // Raw (array) headers: Node then sends exactly these, so the Host header must be among them.
  const flat: string[] = (req.headers ?? []).some(([n]) => n.toLowerCase() === "host") ? [] : ["host", url.host];
  for (const [name, value] of req.headers ?? []) flat.push(name, value);
  return new Promise((resolve) => {
    let out;
    try {
      out = request(
        { host: url.hostname, port: url.port, method: req.method, path: req.path, headers: flat, timeout: timeoutMs, agent: false },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", (e) =>
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8"), error: e.message }),
          );
        },
      );
    } catch (error) {
      // The client itself refused the request (e.g. a character Node never sends in a header).
      resolve({ status: -1, headers: {}, body: "", error: (error as Error).message });
      return;
    }
    out.on("timeout", () => out.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    out.on("error", (e) => resolve({ status: 0, headers: {}, body: "", error: e.message }));
    // A server may answer (413) and close before a large body is sent: the late EPIPE is expected.
    out.on("socket", (socket) => socket.on("error", () => {}));
    if (req.body !== undefined) out.write(req.body);
    out.end();
  });
}

/** Whether a response body carries credentials of any protocol the broker speaks. */
export function carriesCredentials(body: string): boolean {
  return /"(?:AccessKeyId|SecretAccessKey|SessionToken|Token|access_token)"\s*:/.test(body);
}
