/**
 * Azure App Service managed-identity endpoint, what `ManagedIdentityCredential` (and so
 * `DefaultAzureCredential`) calls when `IDENTITY_ENDPOINT` + `IDENTITY_HEADER` are set:
 * `GET /v1/azure/msi/token?api-version=2019-08-01&resource=<resource>[&client_id=<id>]` with
 * `X-IDENTITY-HEADER: <secret>` answers
 * `{access_token, expires_on: "<epoch seconds>", resource, token_type: "Bearer", client_id}`.
 *
 * Wire facts: MSAL Node computes the lifetime from `expires_on` alone (numeric string or ISO 8601);
 * MSAL Python `int()`s it. Both cache the token under the `resource` echoed back, so it is echoed
 * exactly as asked. http on loopback is accepted.
 * See https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference
 */
import type { Context } from "hono";
import type { AzureAccessToken, CredentialSource } from "../credentials.ts";
import { azureResolver, requiredResource, UNSUPPORTED_IDENTITY_PARAMS } from "./azure-resource.ts";
import { clientError } from "./on-error.ts";
import type { ServeEnv } from "./protocol.ts";

export const AZURE_APP_SERVICE_PATH = "/v1/azure/msi/token";
export const APP_SERVICE_API_VERSION = "2019-08-01";

// Spellings of a resource cached per token ("…/", "…" …); a bound, since any number of slashes resolve.
const MAX_CACHED_SPELLINGS = 16;
const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" } as const;

/** The 2019-08-01 response body. */
export function formatAppServiceToken(token: AzureAccessToken, resource: string): string {
  return JSON.stringify({
    access_token: token.accessToken,
    expires_on: String(Math.floor(token.expiresOn.getTime() / 1000)),
    resource,
    token_type: "Bearer",
    client_id: token.clientId,
  });
}

/** The checked meaning of one request's query (the app's handler and the fast lane share it). */
export interface AppServiceRequest {
  target: string;
  scope: string;
  /** The resource exactly as asked (echoed back). */
  resource: string;
}

/**
 * The query checks of the endpoint, given how to read one parameter (its first value, decoded).
 * @throws BrokerError (client-facing) for a wrong api-version, an identity named otherwise than by
 *   client_id, a missing resource, or an identity/resource that is not configured.
 */
export function appServiceRequest(
  query: (name: string) => string | undefined,
  resolve: ReturnType<typeof azureResolver>,
): AppServiceRequest {
  if (query("api-version") !== APP_SERVICE_API_VERSION) throw clientError("BAD_REQUEST", `api-version must be ${APP_SERVICE_API_VERSION}`);
  if (UNSUPPORTED_IDENTITY_PARAMS.some((p) => query(p) !== undefined)) throw clientError("BAD_REQUEST", "name the identity by client_id");
  const resource = requiredResource(query("resource"));
  const { target, scope } = resolve(resource, query("client_id"));
  return { target, scope, resource };
}

/** One serialized body per (token version, resource as asked), bounded per token; `wrap` prepares it for sending. */
export function appServiceBodies(): (token: AzureAccessToken, resource: string) => string;
export function appServiceBodies<T>(wrap: (body: string) => T): (token: AzureAccessToken, resource: string) => T;
export function appServiceBodies<T>(wrap: (body: string) => T = (body) => body as T): (token: AzureAccessToken, resource: string) => T {
  const bodies = new WeakMap<AzureAccessToken, Map<string, T>>();
  return function appServiceBody(token, resource) {
    let perResource = bodies.get(token);
    if (!perResource) {
      perResource = new Map();
      bodies.set(token, perResource);
    }
    let body = perResource.get(resource);
    if (body === undefined) {
      body = wrap(formatAppServiceToken(token, resource));
      if (perResource.size < MAX_CACHED_SPELLINGS) perResource.set(resource, body);
    }
    return body;
  };
}

export function azureAppServiceHandler(deps: {
  source: Pick<CredentialSource, "azure" | "azureTargets">;
  defaultTarget?: string;
  matchesSecret: (presented: string | undefined) => boolean;
}) {
  const resolve = azureResolver(deps.source.azureTargets, deps.defaultTarget);
  const bodyFor = appServiceBodies();
  return async function serveAzureAppService(c: Context<ServeEnv>): Promise<Response> {
    c.set("protocol", "azure-app-service");
    if (!deps.matchesSecret(c.req.header("x-identity-header"))) throw clientError("UNAUTHORIZED", "unauthorized");
    const { target, scope, resource } = appServiceRequest((name) => c.req.query(name), resolve);
    const token = await deps.source.azure(target, scope);
    return c.body(bodyFor(token, resource), 200, JSON_HEADERS);
  };
}
