/** Reading the request body within a byte limit, before anything parses it. */
import { AgentsError } from "../errors.ts";

const FORM = /^application\/x-www-form-urlencoded\s*(?:;.*)?$/i;

/** RFC 6749 §4.1.3 / RFC 8693 §2.1: the token request is `application/x-www-form-urlencoded`. */
export function assertForm(contentType: string | undefined): void {
  if (contentType === undefined || !FORM.test(contentType.trim())) throw new AgentsError("REQUEST_NOT_FORM", "content-type is not a form");
}

/** The body as UTF-8 text; `REQUEST_TOO_LARGE` past `maxBytes` (declared or actual), `REQUEST_MALFORMED` if not UTF-8. */
export async function readLimitedBody(request: Request, maxBytes: number): Promise<string> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw new AgentsError("REQUEST_TOO_LARGE", `content-length ${declared.slice(0, 20)}`);
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
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AgentsError("REQUEST_MALFORMED", "body is not UTF-8");
  }
}
