/**
 * The small interfaces the serving layer needs from the rest of the broker. `broker/log.ts`'s
 * `Logger` and `broker/metrics.ts`'s `MetricsRegistry` satisfy them structurally.
 */

export interface ServeLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface ServeCounter {
  inc(labels: Record<string, string>): void;
  /** An increment of one fixed series for hot paths, added to the counter at each scrape. */
  bound(labels: Record<string, string>): () => void;
}

export interface ServeMetrics {
  counter(name: string, help: string, labelNames: readonly string[]): ServeCounter;
  /** The whole registry in the Prometheus text format. */
  render(): Promise<string>;
}

export const quietLogger: ServeLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
