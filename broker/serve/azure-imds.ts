/**
 * Azure IMDS-compatible token endpoint, what the Azure SDKs call when
 * `AZURE_POD_IDENTITY_AUTHORITY_HOST` points here:
 * `GET /metadata/identity/oauth2/token[/]?api-version=…&resource=…[&client_id=…]` with
 * `Metadata: true` answers, like IMDS, all values as strings:
 * `{access_token, client_id, expires_in, expires_on, ext_expires_in, not_before, resource, token_type}`.
 *
 * IMDS has no secret. This endpoint is therefore only as private as the listener: loopback only
 * (enforced by the options check), off unless configured. Like every credential route, it refuses
 * proxy headers and a `Host` that is not a loopback or IMDS address (request-guard.ts, applied by
 * app.ts), so neither a relaying proxy nor a DNS-rebinding browser page gets a token.
 *
 * Wire facts: `@azure/identity` sends `/metadata/identity/oauth2/token/` (trailing slash) after
 * the URL goes through MSAL; azure-identity for Python sends it without. MSAL Node reads
 * `expires_on`; MSAL Python reads `expires_in` (and `int()`s it). Both retry 404s, Python reads a
 * 400 as "no identity", so unknown identities and resources are 400s (see on-error.ts).
 * See https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#get-a-token-using-http
 */
import type { Context } from "hono";
import type { AzureAccessToken, CredentialSource } from "../credentials.ts";
import { azureResolver, requiredResource, UNSUPPORTED_IDENTITY_PARAMS } from "./azure-resource.ts";
import { clientError } from "./on-error.ts";
import type { Clock } from "../clock.ts";
import type { ServeEnv } from "./protocol.ts";

export const AZURE_IMDS_PATH = "/metadata/identity/oauth2/token";
const API_VERSION = /^\d{4}-\d{2}-\d{2}$/;

// Spellings of a resource cached per token ("…/", "…" …); a bound, since any number of slashes resolve.
const MAX_CACHED_SPELLINGS = 16;
const JSON_HEADERS = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store" } as const;

/** The IMDS response body at `nowSeconds`. */
export function formatImdsToken(token: AzureAccessToken, resource: string, nowSeconds: number): string {
  const expiresOn = Math.floor(token.expiresOn.getTime() / 1000);
  const expiresIn = String(Math.max(0, expiresOn - nowSeconds));
  return JSON.stringify({
    access_token: token.accessToken,
    client_id: token.clientId,
    expires_in: expiresIn,
    expires_on: String(expiresOn),
    ext_expires_in: expiresIn,
    not_before: String(nowSeconds),
    resource,
    token_type: "Bearer",
  });
}

export function azureImdsHandler(deps: { source: Pick<CredentialSource, "azure" | "azureTargets">; defaultTarget?: string; clock: Clock }) {
  const resolve = azureResolver(deps.source.azureTargets, deps.defaultTarget);
  const bodies = new WeakMap<AzureAccessToken, Map<string, { second: number; body: string }>>();
  return async function serveAzureImds(c: Context<ServeEnv>): Promise<Response> {
    c.set("protocol", "azure-imds");
    if (c.req.header("metadata")?.toLowerCase() !== "true") throw clientError("BAD_REQUEST", "Required metadata header not specified");
    if (!API_VERSION.test(c.req.query("api-version") ?? ""))
      throw clientError("BAD_REQUEST", "the api-version query parameter is required");
    if (UNSUPPORTED_IDENTITY_PARAMS.some((p) => c.req.query(p) !== undefined))
      throw clientError("BAD_REQUEST", "name the identity by client_id");
    const resource = requiredResource(c.req.query("resource"));
    const { target, scope } = resolve(resource, c.req.query("client_id"));
    const token = await deps.source.azure(target, scope);
    const second = Math.floor(deps.clock.now() / 1000);
    let perResource = bodies.get(token);
    if (!perResource) {
      perResource = new Map();
      bodies.set(token, perResource);
    }
    let cached = perResource.get(resource);
    if (cached?.second !== second) {
      cached = { second, body: formatImdsToken(token, resource, second) };
      if (perResource.size < MAX_CACHED_SPELLINGS || perResource.has(resource)) perResource.set(resource, cached);
    }
    return c.body(cached.body, 200, JSON_HEADERS);
  };
}
