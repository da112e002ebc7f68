import { describe, expect, it } from "vitest";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../../../broker/metrics.ts";

describe("MetricsRegistry", () => {
  it("renders counters, gauges and histograms in the Prometheus text format", () => {
    const registry = new MetricsRegistry();
    const hits = registry.counter("kcb_hits_total", "Cache hits.", ["target"]);
    hits.inc({ target: "s3" });
    hits.inc({ target: "s3" }, 2);
    hits.inc({ target: "blob" });
    registry.gauge("kcb_up", "Up.").set(undefined, 1);
    const latency = registry.histogram("kcb_latency_seconds", "Latency.", ["cloud"], [0.1, 1]);
    latency.observe({ cloud: "aws" }, 0.05);
    latency.observe({ cloud: "aws" }, 0.5);
    latency.observe({ cloud: "aws" }, 5);

    expect(registry.render()).toBe(
      [
        "# HELP kcb_hits_total Cache hits.",
        "# TYPE kcb_hits_total counter",
        'kcb_hits_total{target="s3"} 3',
        'kcb_hits_total{target="blob"} 1',
        "# HELP kcb_up Up.",
        "# TYPE kcb_up gauge",
        "kcb_up 1",
        "# HELP kcb_latency_seconds Latency.",
        "# TYPE kcb_latency_seconds histogram",
        'kcb_latency_seconds_bucket{cloud="aws",le="0.1"} 1',
        'kcb_latency_seconds_bucket{cloud="aws",le="1"} 2',
        'kcb_latency_seconds_bucket{cloud="aws",le="+Inf"} 3',
        'kcb_latency_seconds_sum{cloud="aws"} 5.55',
        'kcb_latency_seconds_count{cloud="aws"} 3',
        "",
      ].join("\n"),
    );
    expect(PROMETHEUS_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("escapes label values and help text", () => {
    const registry = new MetricsRegistry();
    registry.counter("kcb_x_total", "a\\b\nc", ["v"]).inc({ v: 'q"uote\\back\nline' });
    expect(registry.render()).toContain('# HELP kcb_x_total a\\\\b\\nc\n');
    expect(registry.render()).toContain('kcb_x_total{v="q\\"uote\\\\back\\nline"} 1\n');
  });

  it("collects gauges at scrape time", () => {
    let remaining = 100;
    const registry = new MetricsRegistry();
    registry.gauge("kcb_expiry_seconds", "Seconds to expiry.", ["target"], () => [{ labels: { target: "s3" }, value: remaining }]);
    expect(registry.render()).toContain('kcb_expiry_seconds{target="s3"} 100\n');
    remaining = 40;
    expect(registry.render()).toContain('kcb_expiry_seconds{target="s3"} 40\n');
  });

  it.each([
    ["a metric name with a dash", () => new MetricsRegistry().counter("bad-name", "x")],
    ["a reserved label name", () => new MetricsRegistry().counter("ok_total", "x", ["le"])],
    ["a missing label", () => new MetricsRegistry().counter("ok_total", "x", ["target"]).inc({} as { target: string })],
    ["a negative counter increment", () => new MetricsRegistry().counter("ok_total", "x").inc(undefined, -1)],
    ["unsorted buckets", () => new MetricsRegistry().histogram("h", "x", [], [1, 0.5])],
    [
      "a name registered twice",
      () => {
        const r = new MetricsRegistry();
        r.counter("dup_total", "x");
        r.gauge("dup_total", "x");
      },
    ],
  ])("refuses %s", (_what, make) => {
    expect(make).toThrow(TypeError);
  });
});
