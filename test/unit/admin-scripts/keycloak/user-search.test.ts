import { describe, expect, it } from "vitest";
import {
  batchable,
  SEARCH_BUDGET,
  searchBatches,
  searchValue,
  serviceAccountUsername,
  unansweredIds,
} from "../../../../admin-scripts/keycloak/user-search.ts";

const subjects = (n: number) => Array.from({ length: n }, (_, i) => `workload:w-${String(i + 1).padStart(4, "0")}`);

describe("bulk user search", () => {
  it("names a client's service-account user as Keycloak does, in lower case", () => {
    expect(serviceAccountUsername("Payments-API")).toBe("service-account-payments-api");
  });

  it("keeps every batch's encoded search value within the budget and loses no term", () => {
    const terms = subjects(500);
    const batches = searchBatches("id:", terms, { fixed: "canary-id" });
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.length).toBeLessThanOrEqual(6);
    for (const b of batches) {
      expect(b[0]).toBe("canary-id");
      expect(encodeURIComponent(searchValue("id:", b)).length).toBeLessThanOrEqual(SEARCH_BUDGET);
    }
    expect(batches.flatMap((b) => b.slice(1))).toEqual(terms);
  });

  it("leaves out terms Keycloak would split or cannot match, duplicates and the canary itself", () => {
    expect(batchable("workload:a b")).toBe(false);
    expect(batchable("")).toBe(false);
    expect(batchable("tab\tin")).toBe(false);
    expect(searchBatches("id:", ["a", "a b", "", "a", "canary", "b"], { fixed: "canary" })).toEqual([["canary", "a", "b"]]);
    expect(searchBatches("username:", [])).toEqual([]);
    expect(searchBatches("username:", ["x y"])).toEqual([]);
  });

  it("gives a term longer than the budget a batch of its own", () => {
    const long = "l".repeat(100);
    expect(searchBatches("username:", ["a", long, "b"], { budget: 50 })).toEqual([["a"], [long], ["b"]]);
    expect(searchBatches("username:", ["a", "b", "c"], { budget: 50 })).toEqual([["a", "b", "c"]]);
  });

  it("spells a batch as Keycloak's prefixed, whitespace-separated search", () => {
    expect(searchValue("id:", ["a", "b"])).toBe("id:a b");
    expect(searchValue("username:", ["service-account-x"])).toBe("username:service-account-x");
  });

  it("looks the ids of a batch up one by one when the answer lacks the canary (the server searched one string)", () => {
    const batch = ["canary", "s1", "s2"];
    expect(unansweredIds(batch, "canary", new Set(["canary", "s2"]))).toEqual([]);
    expect(unansweredIds(batch, "canary", new Set())).toEqual(["s1", "s2"]);
    expect(unansweredIds(batch, "canary", new Set(["s1"]))).toEqual(["s1", "s2"]);
  });
});

describe("bulk user search spread over the calls in flight", () => {
  it("cuts 500 terms into as many batches as calls in flight, every term once", () => {
    const terms = subjects(500);
    const batches = searchBatches("username:", terms, { spread: 8 });
    expect(batches).toHaveLength(8);
    expect(Math.max(...batches.map((b) => b.length))).toBe(63);
    expect(batches.flat()).toEqual(terms);
  });

  it("keeps the budget when it is tighter than the spread, and one batch for a few terms", () => {
    const terms = subjects(500);
    for (const b of searchBatches("id:", terms, { spread: 2, fixed: "c" }))
      expect(encodeURIComponent(searchValue("id:", b)).length).toBeLessThanOrEqual(SEARCH_BUDGET);
    expect(searchBatches("id:", ["a", "b", "c"], { spread: 8 })).toEqual([["a"], ["b"], ["c"]]);
    expect(searchBatches("id:", ["a", "b", "c"], { spread: 2, fixed: "k" })).toEqual([
      ["k", "a", "b"],
      ["k", "c"],
    ]);
  });
});
