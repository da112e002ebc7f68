import { describe, expect, it } from "vitest";
import { BenchUsageError, parseBenchArgs, wants } from "../../bench/args.ts";

describe("bench arguments", () => {
  it("defaults to every figure, table output, full runs", () => {
    expect(parseBenchArgs([])).toEqual({ json: false, quick: false, help: false, only: undefined });
  });

  it("takes --json, --quick and comma-separated, repeated --only", () => {
    const options = parseBenchArgs(["--json", "--quick", "--only", "1,2", "--only", "FUZZ"]);
    expect(options).toMatchObject({ json: true, quick: true });
    expect([...(options.only ?? [])]).toEqual(["1", "2", "fuzz"]);
    expect(wants(options, "2")).toBe(true);
    expect(wants(options, "3", "7")).toBe(false);
    expect(wants({ only: undefined }, "7")).toBe(true);
  });

  it.each([[["--only", "10"]], [["--only", ","]], [["--bogus"]], [["positional"]]])("refuses %j", (argv) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchUsageError);
  });
});
