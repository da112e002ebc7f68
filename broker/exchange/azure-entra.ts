/**
 * Azure exchange: the workload's Keycloak token (aud `api://AzureADTokenExchange`) as a federated
 * client assertion for an Entra access token: one form POST to
 * `{authority}/{tenant}/oauth2/v2.0/token` with `grant_type=client_credentials`,
 * `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
 * (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow#third-case-access-token-request-with-a-federated-credential).
 *
 * A plain request instead of `@azure/identity` + MSAL (most of the sidecar's memory): the token
 * endpoint of every Azure cloud is this fixed path, so there is no authority or instance discovery
 * to do, and no token cache that would answer our early refresh with the same token.
 * Errors keep MSAL's shape (`errorCode`, `errorMessage`, `status`), so one classification reads both.
 */
import type { Agent } from "node:https";
import { BrokerError } from "../errors.ts";
import { postForm } from "./post-form.ts";
import { withRetries } from "./retry.ts";

export interface EntraTokenRequest {
  tenantId: string;
  clientId: string;
  /** `<resource>/.default`. */
  scope: string;
  /** The Keycloak token used as `client_assertion` (`aud` = `api://AzureADTokenExchange`). */
  assertion: string;
}

export interface EntraToken {
  accessToken: string;
  expiresOn: Date;
}

export interface AzureExchanger {
  getToken(request: EntraTokenRequest): Promise<EntraToken>;
}

export interface EntraExchangerOptions {
  /** `https://login.microsoftonline.com` by default. */
  authorityHost: string;
  timeoutMs: number;
  maxAttempts: number;
  /** HTTPS agent for the Entra requests (e.g. to trust a private CA); Node's default otherwise. */
  agent?: Agent;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/**
 * AADSTS codes that say "try again": 90033 (Entra temporarily unavailable) and "Request to External
 * OIDC endpoint failed" — Entra could not fetch the issuer's discovery document or JWKS (Keycloak
 * down, overloaded or just back from an outage), which Entra answers as HTTP 400 `invalid_request`
 * with 50166 (older tenants 90061, some 501661; Azure/azure-workload-identity#605 and #642,
 * Azure/AKS#4029: "occasionally a pod fails"). Every other AADSTS code is a decision about this
 * client, assertion or scope (70021 no matching federated credential, 700211/700212/700213 issuer,
 * audience, subject mismatch, 700024 assertion time range, 7000272 unknown kid, 700027 signature,
 * 500011 unknown resource …) that retrying cannot change.
 */
const TRANSIENT_AADSTS = new Set([90033, 50166, 90061, 501661]);

interface EntraErrorShape {
  name?: string;
  errorCode?: string;
  errorMessage?: string;
  message?: string;
  status?: number;
}

function entraCause(error: unknown): EntraErrorShape {
  return error ?? {};
}

/** The first `AADSTS<n>` in an Entra error, if any. */
export function aadstsCode(error: unknown): number | undefined {
  const cause = entraCause(error);
  const text = `${cause.errorMessage ?? ""} ${cause.message ?? ""} ${(error as Error | undefined)?.message ?? ""}`;
  const match = /AADSTS(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A short, secret-free name for what went wrong: `AADSTS70021`, `invalid_client`, `network_error` … */
export function entraErrorCode(error: unknown): string {
  const aadsts = aadstsCode(error);
  if (aadsts !== undefined) return `AADSTS${aadsts}`;
  const cause = entraCause(error);
  if (cause.errorCode) return cause.errorCode;
  return (error as Error | undefined)?.name ?? "Error";
}

/**
 * Whether a failed Entra token request may succeed if retried: transport failures (MSAL
 * `network_error`, metadata unreachable), HTTP 429 and 5xx, and the few transient AADSTS codes.
 */
export function isRetryableEntraError(error: unknown): boolean {
  const aadsts = aadstsCode(error);
  if (aadsts !== undefined && TRANSIENT_AADSTS.has(aadsts)) return true;
  const cause = entraCause(error);
  if (typeof cause.status === "number" && (cause.status === 429 || cause.status >= 500)) return true;
  if (aadsts !== undefined) return false;
  const code = entraErrorCode(error);
  return code === "network_error" || code === "server_error" || code === "temporarily_unavailable";
}

export function toBrokerError(error: unknown, request: Pick<EntraTokenRequest, "tenantId" | "clientId" | "scope">): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = isRetryableEntraError(error) ? "AZURE_RETRYABLE" : "AZURE_REJECTED";
  return new BrokerError(
    code,
    `Entra token for client ${request.clientId} in tenant ${request.tenantId} (${request.scope}) failed: ${entraErrorCode(error)}`,
    { cause: error },
  );
}

const JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** A token-endpoint error answer as an error of MSAL's shape; `server_error` when the body is not Entra's JSON. */
export function entraAnswerError(status: number, body: string): Error & EntraErrorShape {
  let parsed: { error?: unknown; error_description?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // an HTML error page of a proxy or an outage
  }
  const errorCode = typeof parsed.error === "string" ? parsed.error : status >= 500 ? "server_error" : "invalid_response";
  const errorMessage = typeof parsed.error_description === "string" ? parsed.error_description : `HTTP ${status}`;
  const error = new Error(`${errorCode}: ${errorMessage}`) as Error & EntraErrorShape;
  error.name = "ServerError";
  error.errorCode = errorCode;
  error.errorMessage = errorMessage;
  error.status = status;
  return error;
}

/** A failure of the transport (refused, reset, timed out) as MSAL names it: `network_error`, the Node error as cause. */
function networkError(cause: unknown): Error & EntraErrorShape {
  const error = new Error(
    `network_error: ${(cause as Error | undefined)?.name ?? "Error"} ${(cause as { code?: string } | undefined)?.code ?? ""}`.trim(),
    { cause },
  ) as Error & EntraErrorShape;
  error.name = "NetworkError";
  error.errorCode = "network_error";
  return error;
}

/** The access token of a 200 answer (`access_token`, `expires_in` in seconds, number or numeric string). */
export function parseTokenAnswer(body: string, now: number, clientId: string): EntraToken {
  let parsed: { access_token?: unknown; expires_in?: unknown } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // handled below
  }
  const expiresIn = Number(parsed.expires_in);
  if (typeof parsed.access_token !== "string" || parsed.access_token === "" || !Number.isFinite(expiresIn) || expiresIn <= 0) {
    throw new BrokerError("AZURE_RETRYABLE", `Entra returned an incomplete token response for client ${clientId}`);
  }
  return { accessToken: parsed.access_token, expiresOn: new Date(now + expiresIn * 1000) };
}

export function createEntraExchanger(options: EntraExchangerOptions): AzureExchanger {
  const authorityHost = options.authorityHost.replace(/\/+$/, "");

  async function once(request: EntraTokenRequest): Promise<EntraToken> {
    const form = new URLSearchParams({
      client_id: request.clientId,
      scope: request.scope,
      grant_type: "client_credentials",
      client_assertion_type: JWT_BEARER,
      client_assertion: request.assertion,
    });
    const sentAt = Date.now();
    let answer;
    try {
      answer = await postForm(`${authorityHost}/${encodeURIComponent(request.tenantId)}/oauth2/v2.0/token`, form, {
        timeoutMs: options.timeoutMs,
        ...(options.agent && { agent: options.agent }),
      });
    } catch (error) {
      throw networkError(error);
    }
    if (answer.status !== 200) throw entraAnswerError(answer.status, answer.body);
    // Lifetime counted from when the request left: never later than Entra's own clock says.
    return parseTokenAnswer(answer.body, sentAt, request.clientId);
  }

  return {
    async getToken(request) {
      try {
        return await withRetries(() => once(request), {
          maxAttempts: options.maxAttempts,
          baseDelayMs: 200,
          maxDelayMs: 2_000,
          isRetryable: (e) => (e instanceof BrokerError ? e.code === "AZURE_RETRYABLE" : isRetryableEntraError(e)),
          ...(options.random && { random: options.random }),
          ...(options.sleep && { sleep: options.sleep }),
          ...(options.onRetry && { onRetry: options.onRetry }),
        });
      } catch (error) {
        throw toBrokerError(error, request);
      }
    },
  };
}
