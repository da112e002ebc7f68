import { describe, expect, it } from "vitest";
import { formatJson, formatTable, selectRows } from "../../../bench/report/format.ts";
import { errorRow, measuredRow, type Report } from "../../../bench/report/rows.ts";
import { atLeast, below, exactly } from "../../../bench/report/targets.ts";

const environment = {
  startedAt: "2026-03-01T12:00:00.000Z",
  node: "v20.20.2",
  cpus: 2,
  cpuModel: "Test CPU",
  loadAverageStart: [1.5, 1, 0.5],
  loadAverageEnd: [2, 1.25, 0.75],
  keycloakVersion: "26.7.3",
  quick: false,
  wallSeconds: 123.4,
};

const rows = [
  measuredRow({
    id: "1-ratio",
    figure: "1",
    title: "AWS container: broker / bare req/s",
    value: 0.91,
    shown: "0.91",
    target: atLeast(0.85),
    details: ["broker 9,100 req/s, bare 10,000 req/s"],
  }),
  measuredRow({ id: "1-p99", figure: "1", title: "AWS container: broker p99", value: 2.5, shown: "2.50 ms", target: below(2, "ms") }),
  measuredRow({ id: "4-sts", figure: "4", title: "STS calls for 1,000 cold requests", value: 1, shown: "1", target: exactly(1) }),
  errorRow("6-cold", "6", "cold start to ready", new Error("broker exited with 1")),
];
rows[1]!.explanation = ["CPU profile: 40 % hono"];
const report: Report = { environment, rows };

describe("the table", () => {
  const text = formatTable(report);
  const lines = text.split("\n");

  it("has one aligned line per row with measured value, target and PASS/MISS/ERROR", () => {
    expect(lines[0]).toMatch(/^#\s+figure\s+measured\s+target\s+result$/);
    const row = (title: string) => lines.find((l) => l.includes(title)) ?? "";
    expect(row("broker / bare")).toMatch(/^1\s+AWS container: broker \/ bare req\/s\s+0\.91\s+≥ 0\.85\s+PASS$/);
    expect(row("broker p99")).toMatch(/2\.50 ms\s+< 2 ms\s+MISS$/);
    expect(row("STS calls")).toMatch(/1\s+= 1\s+PASS$/);
    expect(row("cold start")).toMatch(/—\s+ERROR$/);
    const resultColumn = lines[0]!.indexOf("result");
    for (const title of ["broker / bare", "broker p99", "STS calls", "cold start"])
      expect(row(title).search(/(PASS|MISS|ERROR)$/)).toBe(resultColumn);
  });

  it("prints details under their row and explains misses and errors", () => {
    expect(lines[lines.findIndex((l) => l.includes("broker / bare")) + 1]).toContain("· broker 9,100 req/s, bare 10,000 req/s");
    expect(text).toContain("Why the misses and errors:");
    expect(text).toContain("[MISS] 1 AWS container: broker p99");
    expect(text).toContain("CPU profile: 40 % hono");
    expect(text).toContain("[ERROR] 6 cold start to ready");
    expect(text).toContain("Error: broker exited with 1");
  });

  it("ends with the counts, the wall time and the load average", () => {
    expect(text).toContain("2 pass, 1 miss, 1 error · wall 123 s");
    expect(text).toContain("load average (1/5/15 min) at start 1.50 1.00 0.50, at end 2.00 1.25 0.75");
    expect(text).toContain("Keycloak 26.7.3");
  });
});

describe("JSON and selection", () => {
  it("writes NaN as null and keeps every row", () => {
    const parsed = JSON.parse(formatJson(report)) as Report;
    expect(parsed.rows).toHaveLength(4);
    expect(parsed.rows[3]).toMatchObject({ id: "6-cold", value: null, status: "ERROR" });
    expect(parsed.rows[0]).toMatchObject({ value: 0.91, status: "PASS", target: { op: ">=", value: 0.85 } });
  });

  it("selects rows by figure or id", () => {
    expect(selectRows(rows, new Set(["1"])).map((r) => r.id)).toEqual(["1-ratio", "1-p99"]);
    expect(selectRows(rows, new Set(["4-sts", "6"])).map((r) => r.id)).toEqual(["4-sts", "6-cold"]);
    expect(selectRows(rows, undefined)).toHaveLength(4);
  });
});
