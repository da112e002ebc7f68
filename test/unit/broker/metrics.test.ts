import { describe, expect, it } from "vitest";
import { MetricsRegistry, PROMETHEUS_CONTENT_TYPE } from "../../../broker/metrics.ts";

describe("MetricsRegistry", () => {
  it("renders counters, gauges and histograms in the Prometheus text format", async () => {
    const registry = new MetricsRegistry();
    const hits = registry.counter("kcb_hits_total", "Cache hits.", ["target"]);
    hits.inc({ target: "s3" });
    hits.inc({ target: "s3" }, 2);
    hits.inc({ target: "blob" });
    registry.gauge("kcb_up", "Up.").set(1);
    const latency = registry.histogram("kcb_latency_seconds", "Latency.", ["cloud"], [0.1, 1]);
    latency.observe({ cloud: "aws" }, 0.05);
    latency.observe({ cloud: "aws" }, 0.5);
    latency.observe({ cloud: "aws" }, 5);

    expect(await registry.render()).toBe(
      [
        "# HELP kcb_hits_total Cache hits.",
        "# TYPE kcb_hits_total counter",
        'kcb_hits_total{target="s3"} 3',
        'kcb_hits_total{target="blob"} 1',
        "",
        "# HELP kcb_up Up.",
        "# TYPE kcb_up gauge",
        "kcb_up 1",
        "",
        "# HELP kcb_latency_seconds Latency.",
        "# TYPE kcb_latency_seconds histogram",
        'kcb_latency_seconds_bucket{le="0.1",cloud="aws"} 1',
        'kcb_latency_seconds_bucket{le="1",cloud="aws"} 2',
        'kcb_latency_seconds_bucket{le="+Inf",cloud="aws"} 3',
        'kcb_latency_seconds_sum{cloud="aws"} 5.55',
        'kcb_latency_seconds_count{cloud="aws"} 3',
        "",
      ].join("\n"),
    );
    expect(PROMETHEUS_CONTENT_TYPE).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("adds a counter's bound increments to its series at each scrape, beside its plain increments", async () => {
    const registry = new MetricsRegistry();
    const requests = registry.counter("kcb_requests_total", "Requests.", ["protocol", "status"]);
    const served = requests.bound({ protocol: "aws-container", status: "200" });
    served();
    served();
    requests.inc({ protocol: "aws-container", status: "200" });
    requests.inc({ protocol: "aws-container", status: "401" });
    expect(await registry.render()).toContain('kcb_requests_total{protocol="aws-container",status="200"} 3\n');
    served();
    const text = await registry.render();
    expect(text).toContain('kcb_requests_total{protocol="aws-container",status="200"} 4\n');
    expect(text).toContain('kcb_requests_total{protocol="aws-container",status="401"} 1\n');
    expect(await registry.render()).toContain('kcb_requests_total{protocol="aws-container",status="200"} 4\n');
  });

  it("escapes label values and help text", async () => {
    const registry = new MetricsRegistry();
    registry.counter("kcb_x_total", "a\\b\nc", ["v"]).inc({ v: 'q"uote\\back\nline' });
    const text = await registry.render();
    expect(text).toContain("# HELP kcb_x_total a\\\\b\\nc\n");
    expect(text).toContain('kcb_x_total{v="q\\"uote\\\\back\\nline"} 1\n');
  });

  it("collects gauges at scrape time, dropping series the callback no longer returns", async () => {
    let series = [{ labels: { target: "s3" }, value: 100 }];
    const registry = new MetricsRegistry();
    registry.gauge("kcb_expiry_seconds", "Seconds to expiry.", ["target"], () => series);
    expect(await registry.render()).toContain('kcb_expiry_seconds{target="s3"} 100\n');
    series = [{ labels: { target: "blob" }, value: 40 }];
    const text = await registry.render();
    expect(text).toContain('kcb_expiry_seconds{target="blob"} 40\n');
    expect(text).not.toContain('target="s3"');
  });

  it("adds Node's process and event-loop metrics only when asked, beside the broker's own", async () => {
    const plain = await new MetricsRegistry().render();
    expect(plain).not.toContain("process_");
    const registry = new MetricsRegistry({ processMetrics: true });
    registry.counter("cloud_broker_cache_hits_total", "Cache hits.", ["target"]).inc({ target: "s3" });
    const text = await registry.render();
    for (const name of [
      "process_cpu_seconds_total",
      "process_resident_memory_bytes",
      "process_start_time_seconds",
      "process_open_fds",
      "nodejs_eventloop_lag_seconds",
      "nodejs_eventloop_lag_p99_seconds",
      "nodejs_heap_size_used_bytes",
      "nodejs_gc_duration_seconds",
      "nodejs_version_info",
    ]) {
      expect(text).toMatch(new RegExp(`^# TYPE ${name} `, "m"));
    }
    expect(text).toContain('cloud_broker_cache_hits_total{target="s3"} 1\n');
  });

  it.each([
    ["a metric name with a dash", () => new MetricsRegistry().counter("bad-name", "x")],
    ["a label name with a dash", () => new MetricsRegistry().counter("ok_total", "x", ["bad-label"])],
    [
      "a label the metric does not have",
      () => new MetricsRegistry().counter("ok_total", "x", ["target"]).inc({ other: "x" } as unknown as { target: string }),
    ],
    ["a negative counter increment", () => new MetricsRegistry().counter("ok_total", "x").inc(-1)],
    [
      "a name registered twice",
      () => {
        const r = new MetricsRegistry();
        r.counter("dup_total", "x");
        r.gauge("dup_total", "x");
      },
    ],
  ])("refuses %s", (_what, make) => {
    expect(make).toThrow();
  });
});
