/**
 * Where failures on the credential endpoints become HTTP answers, for the Hono app's `onError` and
 * the fast lane alike. Status (and the Azure protocols' status), retryability and the client's
 * message all come from the sidecar's one table, `ERRORS` (broker/errors.ts); this module adds
 * only what the wire protocols demand: the body shape each SDK parses (AWS `{Code, Message}`; App
 * Service `{statusCode, message}`; IMDS `{error, error_description}`) and `Retry-After` on
 * retryable errors.
 *
 * Clients get the table's message, or a message the serving layer wrote for them about their own
 * request ({@link clientError}); never the internal message, cause or stack. The log gets the
 * detail (through the redacting logger).
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { BrokerError, ERRORS, type BrokerErrorCode } from "../errors.ts";
import type { ServeLogger } from "./ports.ts";
import type { Protocol, ServeEnv } from "./protocol.ts";

// Errors whose message was written for the client by the serving layer itself (see clientError).
const clientFacing = new WeakSet<BrokerError>();

/** A `BrokerError` whose message is safe and useful to show the caller (it describes their own request). */
export function clientError(code: "BAD_REQUEST" | "UNKNOWN_TARGET" | "UNAUTHORIZED", message: string): BrokerError {
  const error = new BrokerError(code, message);
  clientFacing.add(error);
  return error;
}

const AZURE_PROTOCOLS: ReadonlySet<Protocol> = new Set(["azure-app-service", "azure-imds"]);

/** HTTP status of `code` when answered through `protocol`. */
export function statusFor(code: BrokerErrorCode, protocol: Protocol): number {
  const row = ERRORS[code];
  return (AZURE_PROTOCOLS.has(protocol) ? row.azureStatus : undefined) ?? row.status;
}

function bodyFor(protocol: Protocol, status: number, code: string, message: string): Record<string, unknown> {
  switch (protocol) {
    case "aws-container":
      return { Code: code, Message: message };
    case "azure-app-service":
      return { statusCode: status, message, error: code.toLowerCase() };
    case "azure-imds":
      return { error: code.toLowerCase(), error_description: message };
    case "ops":
      return { error: code.toLowerCase(), message };
  }
}

/** What to answer for `error` on `protocol`: the one mapping from errors to responses (logged here too). */
export interface ErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

export function errorAnswer(
  error: unknown,
  protocol: Protocol,
  path: string,
  options: { log: ServeLogger; retryAfterSeconds: number },
): ErrorAnswer {
  if (error instanceof BrokerError) {
    const status = statusFor(error.code, protocol);
    const message = clientFacing.has(error) ? error.message : ERRORS[error.code].message;
    const fields = { protocol, code: error.code, status, path };
    if (status >= 500) options.log.warn("credential request failed", { ...fields, error });
    else if (status === 401) options.log.warn("request refused: missing or wrong secret header", fields);
    else options.log.info("request refused", { ...fields, reason: message });
    const headers: Record<string, string> = ERRORS[error.code].retryable ? { "Retry-After": String(options.retryAfterSeconds) } : {};
    return { status, headers, body: bodyFor(protocol, status, error.code, message) };
  }
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, headers: {}, body: bodyFor(protocol, error.status, "BAD_REQUEST", ERRORS.BAD_REQUEST.message) };
  }
  options.log.error("unexpected error while serving", { protocol, path, error });
  return { status: 500, headers: {}, body: bodyFor(protocol, 500, "INTERNAL", "internal error") };
}

/** The app's `onError`: every thrown error ends here. */
export function errorHandler(options: { log: ServeLogger; retryAfterSeconds: number }) {
  return function handleError(error: Error, c: Context<ServeEnv>): Response {
    const answer = errorAnswer(error, c.get("protocol") ?? "ops", c.req.path, options);
    for (const [name, value] of Object.entries(answer.headers)) c.header(name, value);
    return c.json(answer.body, answer.status as 400);
  };
}
