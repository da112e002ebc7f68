import { describe, expect, it } from "vitest";
import { pageStarts } from "../../../../admin-scripts/keycloak/paging.ts";

describe("pages read at once", () => {
  it("covers the expected items and one more, so that a short page ends the list in one wave", () => {
    expect(pageStarts(0, 100, 507, 8)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(pageStarts(0, 100, 500, 8)).toEqual([0, 100, 200, 300, 400, 500]);
    expect(pageStarts(0, 100, 499, 8)).toEqual([0, 100, 200, 300, 400]);
  });

  it("asks for one page when nothing is expected (a new realm) and never more than the limit", () => {
    expect(pageStarts(0, 100, 0, 8)).toEqual([0]);
    expect(pageStarts(0, 100, 5000, 8)).toEqual([0, 100, 200, 300, 400, 500, 600, 700]);
  });

  it("goes on from where the last wave ended, one page at least even past the expected count", () => {
    expect(pageStarts(800, 100, 5000, 8)).toEqual([800, 900, 1000, 1100, 1200, 1300, 1400, 1500]);
    expect(pageStarts(600, 100, 507, 8)).toEqual([600]);
  });
});
