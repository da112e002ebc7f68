/**
 * Fetches an OIDC issuer's signing keys the way AWS STS and Entra ID do: discovery document at
 * `<iss>/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §4), then its `jwks_uri`,
 * both over HTTPS only, with a timeout, a size bound, a cache per issuer and a cool-down on forced
 * refreshes (an unknown `kid` triggers one refetch at most every `refreshCooldownMs`).
 */
import type { JSONWebKeySet } from "jose";
import { systemClock, type Clock, type FetchLike } from "./types.ts";

export type IssuerKeysErrorCode =
  /** Network error, timeout or 5xx: the issuer could not be reached (retryable). */
  | "ISSUER_UNREACHABLE"
  /** The issuer answered, but not with a usable discovery document or JWKS. */
  | "ISSUER_METADATA_INVALID";

export class IssuerKeysError extends Error {
  override readonly name = "IssuerKeysError";
  constructor(
    readonly code: IssuerKeysErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface IssuerKeysOptions {
  fetch?: FetchLike;
  clock?: Clock;
  /** Per request (discovery and JWKS each). Default 5 s. */
  timeoutMs?: number;
  /** How long fetched keys are used before refetching. Default 10 min. */
  ttlMs?: number;
  /** Minimum time between two forced refreshes of one issuer. Default 30 s. */
  refreshCooldownMs?: number;
  /** Largest accepted discovery or JWKS body. Default 64 KiB. */
  maxBytes?: number;
  /** Most keys accepted in one JWKS. Default 100. */
  maxKeys?: number;
  /** Most issuers cached at once (oldest evicted). Default 50. */
  maxIssuers?: number;
}

export interface IssuerKeys {
  /** The issuer's JWKS, from cache when fresh. `forceRefresh` refetches unless one happened within the cool-down. */
  get(issuer: string, opts?: { forceRefresh?: boolean }): Promise<JSONWebKeySet>;
  /** How many HTTP requests were made (for tests asserting the cache works). */
  readonly fetchCount: number;
}

interface Entry {
  jwks: JSONWebKeySet;
  fetchedAt: number;
}

export function createIssuerKeys(opts: IssuerKeysOptions = {}): IssuerKeys {
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => fetch(input, init));
  const clock = opts.clock ?? systemClock;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const ttlMs = opts.ttlMs ?? 600_000;
  const cooldownMs = opts.refreshCooldownMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? 65_536;
  const maxKeys = opts.maxKeys ?? 100;
  const maxIssuers = opts.maxIssuers ?? 50;
  const cache = new Map<string, Entry>();
  const inflight = new Map<string, Promise<Entry>>();
  let fetchCount = 0;

  async function getJson(url: string): Promise<unknown> {
    if (!url.startsWith("https://")) throw new IssuerKeysError("ISSUER_METADATA_INVALID", `not an https URL: ${url}`);
    fetchCount++;
    let res: Response;
    try {
      res = await doFetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: "application/json" } });
    } catch (error) {
      throw new IssuerKeysError("ISSUER_UNREACHABLE", `${url}: ${(error as Error).message}`);
    }
    if (res.status >= 500) throw new IssuerKeysError("ISSUER_UNREACHABLE", `${url}: HTTP ${res.status}`);
    if (res.status !== 200) throw new IssuerKeysError("ISSUER_METADATA_INVALID", `${url}: HTTP ${res.status}`);
    const text = await readBounded(res, maxBytes, url);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new IssuerKeysError("ISSUER_METADATA_INVALID", `${url}: not JSON`);
    }
  }

  async function load(issuer: string): Promise<Entry> {
    const discovery = await getJson(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
    if (!isRecord(discovery) || discovery.issuer !== issuer || typeof discovery.jwks_uri !== "string") {
      throw new IssuerKeysError("ISSUER_METADATA_INVALID", `discovery document of ${issuer} lacks a matching issuer or a jwks_uri`);
    }
    const jwks = await getJson(discovery.jwks_uri);
    if (!isRecord(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length > maxKeys || !jwks.keys.every(isRecord)) {
      throw new IssuerKeysError("ISSUER_METADATA_INVALID", `JWKS of ${issuer} is not a key set of at most ${maxKeys} keys`);
    }
    const entry: Entry = { jwks: jwks as unknown as JSONWebKeySet, fetchedAt: clock() };
    cache.delete(issuer);
    cache.set(issuer, entry);
    while (cache.size > maxIssuers) cache.delete(cache.keys().next().value as string);
    return entry;
  }

  function loadOnce(issuer: string): Promise<Entry> {
    let p = inflight.get(issuer);
    if (!p) {
      p = load(issuer).finally(() => inflight.delete(issuer));
      inflight.set(issuer, p);
    }
    return p;
  }

  return {
    get fetchCount() {
      return fetchCount;
    },
    async get(issuer, getOpts = {}) {
      const cached = cache.get(issuer);
      const now = clock();
      const fresh = cached && now - cached.fetchedAt < ttlMs;
      const mayRefresh = !cached || now - cached.fetchedAt >= cooldownMs;
      if (cached && fresh && !(getOpts.forceRefresh && mayRefresh)) return cached.jwks;
      return (await loadOnce(issuer)).jwks;
    },
  };
}

async function readBounded(res: Response, maxBytes: number, url: string): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > maxBytes) throw new IssuerKeysError("ISSUER_METADATA_INVALID", `${url}: body larger than ${maxBytes} bytes`);
  if (!res.body) return "";
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new IssuerKeysError("ISSUER_METADATA_INVALID", `${url}: body larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
