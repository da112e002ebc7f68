/**
 * Gets "agent acting for workload" tokens from Keycloak: a client-credentials grant as the
 * delegation client `kcb-delegation.<agent>.<workload>` that realm-sync manages, with
 * `scope=kcb-aws` or `scope=kcb-azure`. Keycloak's mappers on that client make the token's `sub` the
 * workload's subject and put `<agent>@<workload>` in `https://aws.amazon.com/source_identity`
 * (README.md, "SourceIdentity"). Tokens are cached per (client, cloud) until shortly before they
 * expire, and concurrent misses share one request. Endpoints come from the issuer's discovery.
 *
 * @example
 * const delegation = keycloakDelegatedTokens({ issuer, clientAuth: privateKeyJwtAuth(key), clock: systemClock });
 */
import type { webcrypto } from "node:crypto";
import * as oidc from "openid-client";
import { AWS_SCOPE, AZURE_SCOPE, delegationClientId } from "../../realm-config/model/conventions.ts";
import { AgentsError } from "../errors.ts";
import type { Clock } from "../clock.ts";
import type { DelegatedTokenSource } from "./ports.ts";

export interface KeycloakDelegationOptions {
  /** The trust domain's issuer (discovery at `${issuer}/.well-known/openid-configuration`). */
  issuer: string;
  /** How the broker authenticates as a delegation client, e.g. {@link privateKeyJwtAuth}. */
  clientAuth: (clientId: string) => oidc.ClientAuth;
  clock: Clock;
  /** Fetch a new token this long before the cached one expires, default 60 s. */
  refreshBeforeSeconds?: number;
  /** For tests and custom TLS. */
  fetch?: oidc.CustomFetch;
}

/** `private_key_jwt` (RFC 7523) with the broker's delegation key: what the delegation clients expect. */
export function privateKeyJwtAuth(key: webcrypto.CryptoKey, kid?: string): (clientId: string) => oidc.ClientAuth {
  const auth = oidc.PrivateKeyJwt(kid === undefined ? key : { key, kid });
  return () => auth;
}

/** A client secret per delegation client (weakest option; for environments without a key). */
export function clientSecretAuth(secretFor: (clientId: string) => string): (clientId: string) => oidc.ClientAuth {
  return (clientId) => oidc.ClientSecretPost(secretFor(clientId));
}

interface Cached {
  token: string;
  refreshAt: number;
}

function classify(error: unknown, clientId: string): AgentsError {
  const status = error instanceof oidc.ResponseBodyError || error instanceof oidc.WWWAuthenticateChallengeError ? error.status : undefined;
  if (status !== undefined && status < 500) {
    // invalid_client / unauthorized_client / invalid_scope: the delegation client is missing or not set up as expected.
    return new AgentsError("DELEGATION_MISCONFIGURED", `Keycloak refused ${clientId} (HTTP ${status})`, { cause: error });
  }
  return new AgentsError(
    "DELEGATION_UNAVAILABLE",
    `Keycloak unavailable for ${clientId}: ${error instanceof Error ? error.name : "error"}`,
    { cause: error },
  );
}

export function keycloakDelegatedTokens(options: KeycloakDelegationOptions): DelegatedTokenSource {
  const refreshBeforeMs = (options.refreshBeforeSeconds ?? 60) * 1000;
  const cache = new Map<string, Cached>();
  const pending = new Map<string, Promise<string>>();
  let server: Promise<oidc.ServerMetadata> | undefined;

  const metadata = (): Promise<oidc.ServerMetadata> => {
    server ??= oidc
      .discovery(
        new URL(options.issuer),
        "kcb-discovery",
        undefined,
        oidc.None(),
        options.fetch ? { [oidc.customFetch]: options.fetch } : undefined,
      )
      .then((config) => config.serverMetadata())
      .catch((error: unknown) => {
        server = undefined;
        throw error;
      });
    return server;
  };

  async function fetchToken(clientId: string, scope: string): Promise<string> {
    const config = new oidc.Configuration(await metadata(), clientId, undefined, options.clientAuth(clientId));
    if (options.fetch) config[oidc.customFetch] = options.fetch;
    const response = await oidc.clientCredentialsGrant(config, { scope });
    const expiresIn = response.expiresIn() ?? 60;
    cache.set(`${clientId} ${scope}`, {
      token: response.access_token,
      refreshAt: options.clock.now() + expiresIn * 1000 - refreshBeforeMs,
    });
    return response.access_token;
  }

  return {
    async token({ agent, workload, cloud }) {
      const clientId = delegationClientId(agent, workload);
      const scope = cloud === "aws" ? AWS_SCOPE : AZURE_SCOPE;
      const key = `${clientId} ${scope}`;
      const cached = cache.get(key);
      if (cached && cached.refreshAt > options.clock.now()) return cached.token;
      let inFlight = pending.get(key);
      if (!inFlight) {
        inFlight = fetchToken(clientId, scope)
          .catch((error: unknown) => {
            throw error instanceof AgentsError ? error : classify(error, clientId);
          })
          .finally(() => pending.delete(key));
        pending.set(key, inFlight);
      }
      return inFlight;
    },
  };
}
