/**
 * A tiny Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * No global state: the entry module creates one registry and hands it to whoever records or renders.
 *
 * @example
 * const registry = new MetricsRegistry();
 * const hits = registry.counter("cloud_broker_cache_hits_total", "Cache hits.", ["target"]);
 * hits.inc({ target: "s3-reader" });
 * registry.render(); // "# HELP cloud_broker_cache_hits_total Cache hits.\n# TYPE …"
 */

/** `Content-Type` of {@link MetricsRegistry.render}'s output. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type Labels<L extends string> = { readonly [K in L]: string };

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Latency buckets in seconds, from 5 ms to 30 s (upstream calls: Keycloak, STS, Entra). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

interface Metric {
  readonly name: string;
  render(): string[];
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(pairs: ReadonlyArray<readonly [string, string]>): string {
  return pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(",")}}`;
}

abstract class LabelledMetric<L extends string, S> implements Metric {
  protected readonly series = new Map<string, { labels: Labels<L>; state: S }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
    readonly type: "counter" | "gauge" | "histogram",
  ) {
    if (!METRIC_NAME.test(name)) throw new TypeError(`invalid metric name: ${name}`);
    for (const label of labelNames) {
      if (!LABEL_NAME.test(label) || label.startsWith("__") || label === "le") throw new TypeError(`invalid label name: ${label}`);
    }
  }

  protected abstract initial(): S;

  protected entry(labels: Labels<L> | undefined): { labels: Labels<L>; state: S } {
    const values = this.labelNames.map((name) => {
      const value = labels?.[name];
      if (typeof value !== "string") throw new TypeError(`metric ${this.name}: label ${name} missing`);
      return value;
    });
    const key = JSON.stringify(values);
    let found = this.series.get(key);
    if (!found) {
      found = { labels: { ...(labels ?? {}) } as Labels<L>, state: this.initial() };
      this.series.set(key, found);
    }
    return found;
  }

  protected pairs(labels: Labels<L>): Array<readonly [string, string]> {
    return this.labelNames.map((name) => [name, labels[name]] as const);
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const { labels, state } of this.series.values()) lines.push(...this.renderSeries(labels, state));
    return lines;
  }

  protected abstract renderSeries(labels: Labels<L>, state: S): string[];
}

/** A value that only goes up (resets with the process). */
export class Counter<L extends string = never> extends LabelledMetric<L, { value: number }> {
  constructor(name: string, help: string, labelNames: readonly L[] = []) {
    super(name, help, labelNames, "counter");
  }
  protected initial() {
    return { value: 0 };
  }
  inc(labels?: Labels<L>, by = 1): void {
    if (!(by >= 0)) throw new TypeError(`counter ${this.name}: cannot increase by ${by}`);
    this.entry(labels).state.value += by;
  }
  get(labels?: Labels<L>): number {
    return this.entry(labels).state.value;
  }
  protected renderSeries(labels: Labels<L>, state: { value: number }): string[] {
    return [`${this.name}${labelText(this.pairs(labels))} ${formatValue(state.value)}`];
  }
}

/**
 * A value that goes up and down. Either set it, or give a `collect` callback that returns the
 * current series at scrape time (for values that change with the clock, e.g. seconds to expiry).
 */
export class Gauge<L extends string = never> extends LabelledMetric<L, { value: number }> {
  constructor(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    private readonly collect?: () => Array<{ labels: Labels<L>; value: number }>,
  ) {
    super(name, help, labelNames, "gauge");
  }
  protected initial() {
    return { value: 0 };
  }
  set(labels: Labels<L> | undefined, value: number): void {
    this.entry(labels).state.value = value;
  }
  inc(labels?: Labels<L>, by = 1): void {
    this.entry(labels).state.value += by;
  }
  dec(labels?: Labels<L>, by = 1): void {
    this.entry(labels).state.value -= by;
  }
  get(labels?: Labels<L>): number {
    return this.entry(labels).state.value;
  }
  override render(): string[] {
    if (this.collect) {
      this.series.clear();
      for (const { labels, value } of this.collect()) this.set(labels, value);
    }
    return super.render();
  }
  protected renderSeries(labels: Labels<L>, state: { value: number }): string[] {
    return [`${this.name}${labelText(this.pairs(labels))} ${formatValue(state.value)}`];
  }
}

interface HistogramState {
  counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into cumulative buckets (`le`), plus their sum and count. */
export class Histogram<L extends string = never> extends LabelledMetric<L, HistogramState> {
  readonly buckets: readonly number[];
  constructor(name: string, help: string, labelNames: readonly L[] = [], buckets: readonly number[] = LATENCY_BUCKETS) {
    super(name, help, labelNames, "histogram");
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (buckets[i - 1] ?? -Infinity)))) {
      throw new TypeError(`histogram ${name}: buckets must be finite and strictly increasing`);
    }
    this.buckets = [...buckets];
  }
  protected initial(): HistogramState {
    return { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
  }
  observe(labels: Labels<L> | undefined, value: number): void {
    const state = this.entry(labels).state;
    this.buckets.forEach((bound, i) => {
      if (value <= bound) state.counts[i] = (state.counts[i] ?? 0) + 1;
    });
    state.sum += value;
    state.count += 1;
  }
  /** Count and sum of the observations for one label set. */
  get(labels?: Labels<L>): { count: number; sum: number } {
    const { count, sum } = this.entry(labels).state;
    return { count, sum };
  }
  protected renderSeries(labels: Labels<L>, state: HistogramState): string[] {
    const base = this.pairs(labels);
    const lines = this.buckets.map(
      (bound, i) => `${this.name}_bucket${labelText([...base, ["le", formatValue(bound)]])} ${state.counts[i] ?? 0}`,
    );
    lines.push(`${this.name}_bucket${labelText([...base, ["le", "+Inf"]])} ${state.count}`);
    lines.push(`${this.name}_sum${labelText(base)} ${formatValue(state.sum)}`);
    lines.push(`${this.name}_count${labelText(base)} ${state.count}`);
    return lines;
  }
}

/** Holds every metric of the process and renders them all for `/metrics`. */
export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new TypeError(`metric ${metric.name} registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.add(new Counter<L>(name, help, labelNames));
  }

  gauge<L extends string = never>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    collect?: () => Array<{ labels: Labels<L>; value: number }>,
  ): Gauge<L> {
    return this.add(new Gauge<L>(name, help, labelNames, collect));
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[] = [], buckets?: readonly number[]): Histogram<L> {
    return this.add(new Histogram<L>(name, help, labelNames, buckets));
  }

  /** The whole registry in the Prometheus text format, ending with a newline. */
  render(): string {
    const lines: string[] = [];
    for (const metric of this.metrics.values()) lines.push(...metric.render());
    return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
  }
}
