/**
 * Azure exchange: the workload's Keycloak token (aud `api://AzureADTokenExchange`) as a federated
 * client assertion for an Entra access token, through `@azure/identity`'s `ClientAssertionCredential`
 * (`POST {authority}/{tenant}/oauth2/v2.0/token`, `grant_type=client_credentials`,
 * `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`).
 *
 * One credential per exchange, on purpose: MSAL caches tokens inside a credential and would answer
 * our early refresh with the same token until 5 min before its expiry, defeating the refresh-ahead
 * policy. The cost is one metadata GET per exchange (about once an hour per target).
 *
 * `disableInstanceDiscovery` is set whenever the authority host is not a public Azure cloud: MSAL
 * would otherwise resolve an unknown authority through instance discovery at the public cloud and
 * fail with `endpoints_resolution_error` (see DESIGN.md).
 */
import type { Agent } from "node:https";
import { AzureAuthorityHosts, ClientAssertionCredential, type ClientAssertionCredentialOptions } from "@azure/identity";
import { BrokerError } from "../errors.ts";
import { withRetries } from "./retry.ts";

export interface EntraTokenRequest {
  tenantId: string;
  clientId: string;
  /** `<resource>/.default`. */
  scope: string;
  /** The Keycloak token for the Azure audience. */
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

const PUBLIC_CLOUDS = new Set<string>(Object.values(AzureAuthorityHosts).map((h) => new URL(h).origin));

/** Whether `authorityHost` is one of Azure's public clouds, whose instance discovery MSAL knows. */
export function isPublicAzureCloud(authorityHost: string): boolean {
  try {
    return PUBLIC_CLOUDS.has(new URL(authorityHost).origin);
  } catch {
    return false;
  }
}

/**
 * AADSTS codes that say "try again". Every other AADSTS code is a decision about this client,
 * assertion or scope (70021 no matching federated credential, 700211/700212/700213 issuer,
 * audience, subject mismatch, 700024 assertion time range, 7000272 unknown kid, 700027 signature,
 * 500011 unknown resource …) that retrying cannot change.
 */
const TRANSIENT_AADSTS = new Set([90033]);

type PipelinePolicy = NonNullable<ClientAssertionCredentialOptions["additionalPolicies"]>[number]["policy"];

interface MsalServerErrorShape {
  name?: string;
  errorCode?: string;
  errorMessage?: string;
  message?: string;
  status?: number;
}

function msalCause(error: unknown): MsalServerErrorShape {
  const e = (error ?? {}) as { cause?: unknown } & MsalServerErrorShape;
  return (e.cause && typeof e.cause === "object" ? e.cause : e);
}

/** The first `AADSTS<n>` in an Entra error, if any. */
export function aadstsCode(error: unknown): number | undefined {
  const cause = msalCause(error);
  const text = `${cause.errorMessage ?? ""} ${cause.message ?? ""} ${(error as Error | undefined)?.message ?? ""}`;
  const match = /AADSTS(\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** A short, secret-free name for what went wrong: `AADSTS70021`, `invalid_client`, `network_error` … */
export function entraErrorCode(error: unknown): string {
  const aadsts = aadstsCode(error);
  if (aadsts !== undefined) return `AADSTS${aadsts}`;
  const cause = msalCause(error);
  if (cause.errorCode) return cause.errorCode;
  const message = (error as Error | undefined)?.message ?? "";
  if (message.startsWith("endpoints_resolution_error")) return "endpoints_resolution_error";
  return (error as Error | undefined)?.name ?? "Error";
}

/**
 * Whether a failed Entra token request may succeed if retried: transport failures (MSAL
 * `network_error`, metadata unreachable), HTTP 429 and 5xx, and the few transient AADSTS codes.
 */
export function isRetryableEntraError(error: unknown): boolean {
  const aadsts = aadstsCode(error);
  if (aadsts !== undefined && TRANSIENT_AADSTS.has(aadsts)) return true;
  const cause = msalCause(error);
  if (typeof cause.status === "number" && (cause.status === 429 || cause.status >= 500)) return true;
  if (aadsts !== undefined) return false;
  const code = entraErrorCode(error);
  return code === "network_error" || code === "endpoints_resolution_error" || code === "server_error" || code === "temporarily_unavailable" || code === "AbortError";
}

export function toBrokerError(error: unknown, request: Pick<EntraTokenRequest, "tenantId" | "clientId" | "scope">): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = isRetryableEntraError(error) ? "AZURE_RETRYABLE" : "AZURE_REJECTED";
  return new BrokerError(code, `Entra token for client ${request.clientId} in tenant ${request.tenantId} (${request.scope}) failed: ${entraErrorCode(error)}`, { cause: error });
}

export function createEntraExchanger(options: EntraExchangerOptions): AzureExchanger {
  const authorityHost = options.authorityHost.replace(/\/+$/, "");
  const disableInstanceDiscovery = !isPublicAzureCloud(authorityHost);
  // Per-request timeout through the pipeline (MSAL's requests ignore getToken's abortSignal).
  const timeoutPolicy: PipelinePolicy = {
    name: "cloud-broker-request-timeout",
    sendRequest: (request, next) => {
      request.timeout = options.timeoutMs;
      return next(request);
    },
  };

  async function once(request: EntraTokenRequest): Promise<EntraToken> {
    const credential = new ClientAssertionCredential(request.tenantId, request.clientId, () => Promise.resolve(request.assertion), {
      authorityHost,
      disableInstanceDiscovery,
      retryOptions: { maxRetries: 0 },
      additionalPolicies: [{ position: "perCall", policy: timeoutPolicy }],
      ...(options.agent && { agent: options.agent }),
    });
    const token = await credential.getToken(request.scope);
    if (!token?.token || !Number.isFinite(token.expiresOnTimestamp)) {
      throw new BrokerError("AZURE_RETRYABLE", `Entra returned an incomplete token response for client ${request.clientId}`);
    }
    return { accessToken: token.token, expiresOn: new Date(token.expiresOnTimestamp) };
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
