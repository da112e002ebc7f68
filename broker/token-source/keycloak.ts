/**
 * The workload's Keycloak token, per audience: discovery of the issuer (once, retried after a
 * failure), then a client-credentials request with `scope=kcb-aws` or `scope=kcb-azure`, then the
 * strict checks of {@link checkTokenResponse}. Uncached: the refreshing cache decorates it.
 */
import { clientCredentialsGrant, ClientError, customFetch, discovery, ResponseBodyError, type ClientAuth, type Configuration } from "openid-client";
import { systemClock, type Clock } from "../clock.ts";
import { BrokerError } from "../errors.ts";
import { checkTokenResponse } from "./check-token.ts";
import type { AsyncClientAuth } from "./client-auth.ts";
import { AUDIENCES, type WorkloadTokenSource } from "./token-source.ts";

export interface KeycloakTokenSourceOptions {
  /** The realm's issuer; its `/.well-known/openid-configuration` gives the token endpoint. */
  issuer: string;
  clientId: string;
  auth: AsyncClientAuth;
  timeoutMs: number;
  clock?: Clock;
  /** Replaces the global fetch (tests). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

function findBrokerError(error: unknown): BrokerError | undefined {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof BrokerError) return e;
  }
  return undefined;
}

/**
 * Keycloak's answer as a broker error: `KEYCLOAK_REJECTED` when Keycloak decided (an OAuth error
 * such as `invalid_client`, `unauthorized_client`, `invalid_scope`; a discovery document for
 * another issuer), `KEYCLOAK_UNAVAILABLE` when it could not answer (network, timeout, 5xx, 429).
 */
export function toKeycloakError(error: unknown): BrokerError {
  const own = findBrokerError(error);
  if (own) return own;
  if (error instanceof ResponseBodyError) {
    const unavailable = error.status >= 500 || error.status === 429 || error.error === "temporarily_unavailable" || error.error === "server_error";
    return new BrokerError(unavailable ? "KEYCLOAK_UNAVAILABLE" : "KEYCLOAK_REJECTED", `Keycloak refused the token request: ${error.error} (HTTP ${error.status})`, { cause: error });
  }
  if (error instanceof ClientError) {
    const status = error.cause instanceof Response ? error.cause.status : undefined;
    if (status !== undefined) {
      const unavailable = status >= 500 || status === 429;
      return new BrokerError(unavailable ? "KEYCLOAK_UNAVAILABLE" : "KEYCLOAK_REJECTED", `Keycloak answered HTTP ${status} (${error.code ?? error.message})`, { cause: error });
    }
    if (error.code === "OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED") {
      return new BrokerError("KEYCLOAK_REJECTED", "the issuer's discovery document names another issuer (check the configured issuer and Keycloak's hostname)", { cause: error });
    }
    return new BrokerError("KEYCLOAK_UNAVAILABLE", `Keycloak could not be reached: ${error.code ?? error.message}`, { cause: error });
  }
  const name = (error as Error | undefined)?.name ?? "Error";
  return new BrokerError("KEYCLOAK_UNAVAILABLE", `Keycloak could not be reached: ${name}`, { cause: error });
}

export function createKeycloakTokenSource(options: KeycloakTokenSourceOptions): WorkloadTokenSource {
  const clock = options.clock ?? systemClock;
  const timeout = Math.max(1, Math.ceil(options.timeoutMs / 1000));
  let configuration: Promise<Configuration> | undefined;

  function configure(): Promise<Configuration> {
    configuration ??= discovery(new URL(options.issuer), options.clientId, undefined, options.auth as ClientAuth, {
      timeout,
      ...(options.fetch && { [customFetch]: options.fetch }),
    }).catch((error: unknown) => {
      configuration = undefined;
      throw error;
    });
    return configuration;
  }

  return {
    async fetch(audience) {
      const { scope, aud } = AUDIENCES[audience];
      try {
        const config = await configure();
        const response = await clientCredentialsGrant(config, { scope });
        return checkTokenResponse(response, { issuer: options.issuer, audience: aud, now: clock.now() });
      } catch (error) {
        throw toKeycloakError(error);
      }
    },
  };
}
