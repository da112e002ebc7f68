/**
 * The credential metrics of the broker (rendered by `/metrics`): cache hits and misses, upstream
 * calls by upstream and outcome, upstream latency, and per target whether credentials are held
 * and how many seconds they have left.
 */
import type { BoundableCounter, Counter, Histogram, MetricsRegistry } from "../metrics.ts";

export type Upstream = "keycloak" | "aws" | "azure";

export interface TargetGauge {
  cloud: "aws" | "azure";
  target: string;
  /** Empty for AWS. */
  scope: string;
  ready: boolean;
  /** Milliseconds since the epoch, when credentials are held. */
  expiresAt?: number;
}

export interface CredentialMetrics {
  /** Counted per request on the serving hot path: bound per key (MetricsRegistry's `bound`). */
  cacheHits: BoundableCounter<"cloud" | "target" | "scope">;
  cacheMisses: Counter<"cloud" | "target" | "scope">;
  upstreamCalls: Counter<"upstream" | "outcome">;
  upstreamDuration: Histogram<"upstream">;
}

/** Registers the credential metrics; `targets` and `now` are read at every scrape. */
export function registerCredentialMetrics(registry: MetricsRegistry, targets: () => TargetGauge[], now: () => number): CredentialMetrics {
  const metrics: CredentialMetrics = {
    cacheHits: registry.counter("cloud_broker_cache_hits_total", "Credential requests answered from the cache.", [
      "cloud",
      "target",
      "scope",
    ]),
    cacheMisses: registry.counter(
      "cloud_broker_cache_misses_total",
      "Credential requests that found no servable credentials in the cache.",
      ["cloud", "target", "scope"],
    ),
    upstreamCalls: registry.counter(
      "cloud_broker_upstream_calls_total",
      "Calls to Keycloak, AWS STS and Entra (retries included in one call), by outcome: ok or the broker error code.",
      ["upstream", "outcome"],
    ),
    upstreamDuration: registry.histogram(
      "cloud_broker_upstream_duration_seconds",
      "Duration of a call to Keycloak, AWS STS or Entra, retries included.",
      ["upstream"],
    ),
  };
  registry.gauge(
    "cloud_broker_credentials_ready",
    "1 when valid credentials for the target are held, else 0.",
    ["cloud", "target", "scope"],
    () => targets().map((t) => ({ labels: { cloud: t.cloud, target: t.target, scope: t.scope }, value: t.ready ? 1 : 0 })),
  );
  registry.gauge(
    "cloud_broker_credentials_expiry_seconds",
    "Seconds until the held credentials of the target expire.",
    ["cloud", "target", "scope"],
    () =>
      targets()
        .filter((t) => t.expiresAt !== undefined)
        .map((t) => ({
          labels: { cloud: t.cloud, target: t.target, scope: t.scope },
          value: Math.round(((t.expiresAt ?? 0) - now()) / 1000),
        })),
  );
  return metrics;
}
