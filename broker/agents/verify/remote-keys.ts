/**
 * The pinned issuer's JWKS over HTTPS, with bounded fetches: a timeout, a cooldown between refetches
 * for unknown `kid`s, and a maximum cache age. The URL comes from configuration (or the issuer's
 * discovery document), never from a token.
 *
 * @example
 * const keys = remoteKeys(new URL(`${issuer}/protocol/openid-connect/certs`));
 */
import { createRemoteJWKSet, customFetch, type FetchImplementation, type JWTVerifyGetKey } from "jose";

export interface RemoteKeysOptions {
  /** Per-fetch timeout, default 5 s. */
  timeoutMs?: number;
  /** Minimum time between two fetches, default 30 s (an unknown `kid` cannot trigger a fetch storm). */
  cooldownMs?: number;
  /** Refetch at least this often, default 10 min. */
  cacheMaxAgeMs?: number;
  fetch?: FetchImplementation;
}

export function remoteKeys(jwksUrl: URL, options: RemoteKeysOptions = {}): JWTVerifyGetKey {
  if (jwksUrl.protocol !== "https:") throw new TypeError("the JWKS URL must be https");
  return createRemoteJWKSet(jwksUrl, {
    timeoutDuration: options.timeoutMs ?? 5_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    cacheMaxAge: options.cacheMaxAgeMs ?? 600_000,
    ...(options.fetch ? { [customFetch]: options.fetch } : {}),
  });
}
