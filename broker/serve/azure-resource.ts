/**
 * Which configured Azure identity and scope a managed-identity request means. Both Azure
 * protocols name a *resource* (the scope without `/.default`, e.g. `https://storage.azure.com`)
 * and optionally a user-assigned identity by `client_id`; without one, the default identity answers
 * (what a system-assigned identity is on a real host). Compiled once, pure.
 */
import { resourceOf, type AzureTargetRef } from "../credentials.ts";
import { clientError } from "./on-error.ts";

export interface ResolvedAzureRequest {
  target: string;
  /** The configured scope the resource stands for, e.g. `https://storage.azure.com/.default`. */
  scope: string;
  clientId: string;
}

/**
 * A resolver over the configured targets. Trailing slashes do not matter (IMDS callers often send
 * `https://management.azure.com/`); case does.
 *
 * @example
 * const resolve = azureResolver(source.azureTargets, "storage");
 * resolve("https://storage.azure.com", undefined); // { target: "storage", scope: "https://storage.azure.com/.default", … }
 */
export function azureResolver(targets: readonly AzureTargetRef[], defaultTarget?: string) {
  const byClientId = new Map<string, { target: AzureTargetRef; scopes: Map<string, string> }>();
  let fallback: { target: AzureTargetRef; scopes: Map<string, string> } | undefined;
  for (const target of targets) {
    const entry = { target, scopes: new Map(target.scopes.map((scope) => [resourceOf(scope), scope] as const)) };
    // A client id is unique to one identity; the first configured target wins if one repeats.
    if (!byClientId.has(target.clientId.toLowerCase())) byClientId.set(target.clientId.toLowerCase(), entry);
    if (target.name === (defaultTarget ?? targets[0]?.name)) fallback = entry;
  }
  if (defaultTarget !== undefined && !fallback)
    throw new TypeError(`azure default target ${defaultTarget} is not a configured Azure target`);

  return function resolveAzureRequest(resource: string, clientId: string | undefined): ResolvedAzureRequest {
    const entry = clientId ? byClientId.get(clientId.toLowerCase()) : fallback;
    if (!entry) throw clientError("UNKNOWN_TARGET", clientId ? "no identity with this client_id" : "no Azure identity is configured");
    const scope = entry.scopes.get(resourceOf(resource));
    if (scope === undefined) throw clientError("UNKNOWN_TARGET", "this identity may not get tokens for this resource");
    return { target: entry.target.name, scope, clientId: entry.target.clientId };
  };
}

/** The `resource` query parameter, required by both Azure protocols. */
export function requiredResource(resource: string | undefined): string {
  if (!resource) throw clientError("BAD_REQUEST", "the resource query parameter is required");
  return resource;
}

/** Query parameters naming an identity by something other than its client id, which the broker cannot map. */
export const UNSUPPORTED_IDENTITY_PARAMS = ["object_id", "principal_id", "mi_res_id", "msi_res_id"] as const;
