/**
 * The one place where failures become HTTP answers. Status and retryability come from `ERROR_MAP`
 * (broker/errors.ts); this module adds only what the wire protocols demand:
 *
 * - the body shape each SDK parses (AWS `{Code, Message}`; App Service `{statusCode, message}`;
 *   IMDS `{error, error_description}`);
 * - `Retry-After` on retryable errors;
 * - for the two Azure protocols an unknown identity or resource is a 400, not a 404: MSAL retries
 *   404s (App Service and IMDS), azure-identity for Python retries IMDS 404s for a long while and
 *   reads an IMDS 400 as "no identity here", which is the truth.
 *
 * Clients get a fixed message per code, never the internal message, cause or stack; the log gets
 * the detail (through the redacting logger).
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { BrokerError, ERROR_MAP, type BrokerErrorCode } from "../errors.ts";
import type { ServeLogger } from "./ports.ts";
import type { Protocol, ServeEnv } from "./protocol.ts";

const PUBLIC_MESSAGE: Record<BrokerErrorCode, string> = {
  CONFIG_INVALID: "the broker is misconfigured",
  KEYCLOAK_UNAVAILABLE: "credentials are temporarily unavailable, retry later",
  KEYCLOAK_REJECTED: "the identity provider refused the workload",
  KEYCLOAK_INVALID_TOKEN: "the identity provider issued an unusable token",
  CLIENT_ASSERTION_UNREADABLE: "credentials are temporarily unavailable, retry later",
  AWS_RETRYABLE: "credentials are temporarily unavailable, retry later",
  AWS_REJECTED: "AWS refused the credential exchange",
  AZURE_RETRYABLE: "credentials are temporarily unavailable, retry later",
  AZURE_REJECTED: "Entra ID refused the credential exchange",
  CREDENTIALS_EXPIRING: "credentials are temporarily unavailable, retry later",
  UNAUTHORIZED: "unauthorized",
  BAD_REQUEST: "bad request",
  UNKNOWN_TARGET: "unknown target",
};

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
  if (code === "UNKNOWN_TARGET" && AZURE_PROTOCOLS.has(protocol)) return 400;
  return ERROR_MAP[code].status;
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

export function errorAnswer(error: unknown, protocol: Protocol, path: string, options: { log: ServeLogger; retryAfterSeconds: number }): ErrorAnswer {
  if (error instanceof BrokerError) {
    const status = statusFor(error.code, protocol);
    const message = clientFacing.has(error) ? error.message : PUBLIC_MESSAGE[error.code];
    const fields = { protocol, code: error.code, status, path };
    if (status >= 500) options.log.warn("credential request failed", { ...fields, error });
    else if (status === 401) options.log.warn("request refused: missing or wrong secret header", fields);
    else options.log.info("request refused", { ...fields, reason: message });
    const headers: Record<string, string> = ERROR_MAP[error.code].retryable ? { "Retry-After": String(options.retryAfterSeconds) } : {};
    return { status, headers, body: bodyFor(protocol, status, error.code, message) };
  }
  if (error instanceof HTTPException && error.status < 500) {
    return { status: error.status, headers: {}, body: bodyFor(protocol, error.status, "BAD_REQUEST", PUBLIC_MESSAGE.BAD_REQUEST) };
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
