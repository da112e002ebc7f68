/**
 * The broker's Prometheus registry, on prom-client: the broker's own counters, gauges and
 * histograms beside Node's process and event-loop metrics (CPU seconds, resident memory, open file
 * descriptors, event-loop lag, heap, GC durations), rendered in the text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * No global state: the entry module creates one registry and hands it to whoever records or renders;
 * prom-client's global registry is never used.
 *
 * @example
 * const registry = new MetricsRegistry();
 * const hits = registry.counter("cloud_broker_cache_hits_total", "Cache hits.", ["target"]);
 * hits.inc({ target: "s3-reader" });
 * await registry.render(); // "# HELP cloud_broker_cache_hits_total Cache hits.\n# TYPE …"
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** `Content-Type` of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export type Labels<L extends string> = { readonly [K in L]: string };

export type { Counter, Gauge, Histogram };

/** A counter that also offers {@link BoundableCounter.bound} increments for hot paths. */
export interface BoundableCounter<L extends string> extends Counter<L> {
  /**
   * An increment of one fixed series that costs one addition: the counts are added to the series
   * whenever the registry is collected (a scrape), so a request path never hashes its labels.
   */
  bound(labels: Labels<L>): () => void;
}

/** Latency buckets in seconds, from 5 ms to 30 s (upstream calls: Keycloak, STS, Entra). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

export interface MetricsOptions {
  /**
   * Node's default metrics (prom-client's `collectDefaultMetrics`: process_* and nodejs_*). They
   * describe the whole process, so only the process's own registry (`cloud-broker serve`) asks for
   * them: each registry that does gets its own event-loop monitor and GC observer, which a test or
   * a bench process holding many credential sources must not multiply.
   */
  processMetrics?: boolean;
}

/** Holds every metric of the process and renders them all for `/metrics`. */
export class MetricsRegistry {
  private readonly registry = new Registry();

  constructor(options: MetricsOptions = {}) {
    if (options.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): BoundableCounter<L> {
    const pending: Array<{ labels: Labels<L>; count: number }> = [];
    const counter = new Counter<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect(this: Counter<L>) {
        for (const series of pending) {
          if (series.count === 0) continue;
          this.inc(series.labels as Partial<Record<L, string>>, series.count);
          series.count = 0;
        }
      },
    });
    return Object.assign(counter, {
      bound(labels: Labels<L>) {
        const series = { labels: { ...labels }, count: 0 };
        pending.push(series);
        return () => {
          series.count++;
        };
      },
    });
  }

  /**
   * A value that goes up and down. Either set it, or give a `collect` callback that returns the
   * current series at scrape time (for values that change with the clock, e.g. seconds to expiry);
   * series the callback no longer returns disappear.
   */
  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: () => Array<{ labels: Labels<L>; value: number }>,
  ): Gauge<L> {
    return new Gauge<L>({
      name,
      help,
      labelNames,
      registers: [this.registry],
      ...(collect && {
        collect(this: Gauge<L>) {
          this.reset();
          for (const { labels, value } of collect()) this.set(labels as Partial<Record<L, string>>, value);
        },
      }),
    });
  }

  histogram<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets: readonly number[] = LATENCY_BUCKETS,
  ): Histogram<L> {
    return new Histogram<L>({ name, help, labelNames, buckets: [...buckets], registers: [this.registry] });
  }

  /** The whole registry in the Prometheus text format (metrics separated by an empty line), ending with a newline. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
