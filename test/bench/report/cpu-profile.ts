/**
 * Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into the few lines that explain where
 * the time went: the top functions by self time, and self time by area (a package, Node's
 * internals, the repository's own code, GC, idle). Pure.
 */

export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface Share {
  name: string;
  /** Fraction (0–1) of the non-idle samples. */
  share: number;
}

export interface ProfileSummary {
  /** Sampled time, ms. */
  sampledMs: number;
  /** Fraction of all samples that were idle (waiting for I/O). */
  idle: number;
  /** With, for each, its most frequent callers (JS frames) when they are known. */
  topFunctions: Array<Share & { callers?: string[] }>;
  areas: Share[];
}

/** `node_modules/<pkg>` (scoped too), `node:internal`, `repo:<top folder>`, or the special V8 nodes. */
export function areaOf(url: string, functionName: string): string {
  if (url === "") {
    if (functionName === "(garbage collector)") return "(garbage collector)";
    if (functionName === "(program)") return "(program: native/V8)";
    if (functionName === "(idle)") return "(idle)";
    return "(native)";
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return modules[1] as string;
  if (url.startsWith("node:")) return "node:internal";
  const repo = /\/(broker|admin-scripts|test|dist)\/([^/]+)/.exec(url);
  if (repo) return repo[1] === "dist" ? "dist bundle" : `${repo[1]}/${(repo[2] ?? "").replace(/\.[cm]?[jt]s.*$/, "")}`;
  return url.replace(/^file:\/\//, "");
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf("node_modules/");
  if (modules >= 0) return url.slice(modules + "node_modules/".length);
  const repo = /\/(broker|admin-scripts|test|dist)\/.*$/.exec(url);
  return repo ? repo[0].slice(1) : url.replace(/^file:\/\//, "");
}

function top(map: Map<string, number>, total: number, n: number): Share[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, hits]) => ({ name, share: total > 0 ? hits / total : 0 }));
}

/**
 * The `n` functions and areas with the most self time, as shares of the non-idle samples taken
 * `fromMs` or later after the profile started (to leave out start-up).
 */
export function summarizeCpuProfile(profile: CpuProfile, n = 10, fromMs = 0): ProfileSummary {
  const hits = new Map<number, number>();
  let firstUs = profile.startTime;
  if (profile.samples?.length) {
    const deltas = profile.timeDeltas ?? [];
    let t = profile.startTime;
    const from = profile.startTime + fromMs * 1000;
    firstUs = Number.NaN;
    profile.samples.forEach((id, i) => {
      t += deltas[i] ?? 0;
      if (t < from) return;
      if (Number.isNaN(firstUs)) firstUs = t;
      hits.set(id, (hits.get(id) ?? 0) + 1);
    });
    if (Number.isNaN(firstUs)) firstUs = profile.endTime;
  } else {
    for (const node of profile.nodes) hits.set(node.id, node.hitCount ?? 0);
  }

  const parent = new Map<number, CpuProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node);
  const nameOf = (node: CpuProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    return url === "" ? functionName : `${functionName || "(anonymous)"} ${shortUrl(url)}:${lineNumber + 1}`;
  };
  /** The nearest caller that is JavaScript with a name (native frames and anonymous wrappers skipped). */
  const callerOf = (node: CpuProfileNode): string | undefined => {
    for (let p = parent.get(node.id), depth = 0; p && depth < 12; p = parent.get(p.id), depth++) {
      if (p.callFrame.url !== "" && p.callFrame.functionName !== "") return nameOf(p);
    }
    return undefined;
  };
  const callers = new Map<string, Map<string, number>>();
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  let all = 0;
  let idle = 0;
  for (const node of profile.nodes) {
    const count = hits.get(node.id) ?? 0;
    if (count === 0) continue;
    all += count;
    const { functionName, url } = node.callFrame;
    const area = areaOf(url, functionName);
    if (area === "(idle)") {
      idle += count;
      continue;
    }
    const name = nameOf(node);
    byFunction.set(name, (byFunction.get(name) ?? 0) + count);
    const caller = callerOf(node);
    if (caller !== undefined) {
      const seen = callers.get(name) ?? new Map<string, number>();
      seen.set(caller, (seen.get(caller) ?? 0) + count);
      callers.set(name, seen);
    }
    byArea.set(area, (byArea.get(area) ?? 0) + count);
  }
  const busy = all - idle;
  return {
    sampledMs: (profile.endTime - firstUs) / 1000,
    idle: all > 0 ? idle / all : 0,
    topFunctions: top(byFunction, busy, n).map((f) => {
      const seen = callers.get(f.name);
      if (!seen) return f;
      const total = [...seen.values()].reduce((a, b) => a + b, 0);
      return { ...f, callers: top(seen, total, 2).map((c) => `${c.name} (${(c.share * 100).toFixed(0)} %)`) };
    }),
    areas: top(byArea, busy, n),
  };
}

/** The summary as explanation lines for the table. */
/** Main-thread CPU per request, µs: the busy fraction of one thread spread over the requests served. */
export function cpuPerRequestUs(summary: Pick<ProfileSummary, "idle">, requestsPerSecond: number): number {
  return requestsPerSecond > 0 ? ((1 - summary.idle) * 1e6) / requestsPerSecond : Number.NaN;
}

/** The summary as explanation lines; with the request rate while profiled, the CPU cost per request too. */
export function profileLines(
  summary: ProfileSummary,
  what: string,
  requestsPerSecond?: number,
  topN = summary.topFunctions.length,
): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)} %`;
  const cost =
    requestsPerSecond === undefined
      ? ""
      : `, ${Math.round(requestsPerSecond).toLocaleString("en-US")} req/s ≈ ${cpuPerRequestUs(summary, requestsPerSecond).toFixed(1)} µs of main-thread CPU per request`;
  return [
    `CPU profile of ${what}: ${(summary.sampledMs / 1000).toFixed(1)} s sampled, ${(summary.idle * 100).toFixed(0)} % idle${cost}; self time of the busy samples —`,
    `  by area: ${summary.areas.map((a) => `${a.name} ${(a.share * 100).toFixed(1)} %`).join(", ")}`,
    ...summary.topFunctions
      .slice(0, topN)
      .map((f) => `  ${pct(f.share)}  ${f.name}${f.callers?.length ? `  ← ${f.callers.join(", ")}` : ""}`),
  ];
}
