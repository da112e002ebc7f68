/** Reading the request body within a byte limit, before anything parses it. */
import type { IncomingMessage } from "node:http";
import { AgentsError } from "../errors.ts";

const FORM = /^application\/x-www-form-urlencoded\s*(?:;.*)?$/i;

/** RFC 6749 §4.1.3 / RFC 8693 §2.1: the token request is `application/x-www-form-urlencoded`. */
export function assertForm(contentType: string | undefined): void {
  if (contentType === undefined || !FORM.test(contentType.trim())) throw new AgentsError("REQUEST_NOT_FORM", "content-type is not a form");
}

/** The body as UTF-8 text; `REQUEST_TOO_LARGE` past `maxBytes` (declared or actual), `REQUEST_MALFORMED` if not UTF-8. */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<string> {
  refuseDeclaredLength(request.headers.get("content-length"), maxBytes);
  if (!request.body) return "";
  const reader: ReadableStreamDefaultReader<Uint8Array> = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new AgentsError("REQUEST_TOO_LARGE", `body over ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return utf8(Buffer.concat(chunks));
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function utf8(bytes: Uint8Array): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new AgentsError("REQUEST_MALFORMED", "body is not UTF-8");
  }
}

function refuseDeclaredLength(declared: string | undefined | null, maxBytes: number): void {
  if (declared !== undefined && declared !== null && Number(declared) > maxBytes)
    throw new AgentsError("REQUEST_TOO_LARGE", `content-length ${declared.slice(0, 20)}`);
}

/**
 * The same reading over node:http. Past the limit the rest is not read: Node discards it once the
 * answer is sent (a client that declared or sent too much gets its 413 either way).
 */
export async function readLimitedIncoming(req: IncomingMessage, maxBytes: number): Promise<string> {
  refuseDeclaredLength(req.headers["content-length"], maxBytes);
  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off("data", onData);
        req.off("end", onEnd);
        reject(new AgentsError("REQUEST_TOO_LARGE", `body over ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(Buffer.concat(chunks));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", reject);
  });
  return utf8(bytes);
}
