import { describe, expect, it } from "vitest";
import { canonical, canonicalJwks, claimFindings, expectedClaims, sameEverywhere } from "../../../../admin-scripts/diff/coherence.ts";
import { formatClusterPlan } from "../../../../admin-scripts/diff/format.ts";
import { diffCluster } from "../../../../admin-scripts/diff/diff.ts";
import { desiredOf, liveOf } from "../../../support/fixtures/realm-sync.ts";

describe("coherence checks", () => {
  it("compares JWKS as sets of keys, regardless of order and key order", () => {
    const a = {
      keys: [
        { kid: "1", n: "x", e: "AQAB" },
        { kid: "2", n: "y", e: "AQAB" },
      ],
    };
    const b = {
      keys: [
        { e: "AQAB", kid: "2", n: "y" },
        { n: "x", kid: "1", e: "AQAB" },
      ],
    };
    expect(canonicalJwks(a)).toBe(canonicalJwks(b));
    expect(canonicalJwks(a)).not.toBe(canonicalJwks({ keys: [a.keys[0]!] }));
    expect(canonical({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });

  it.each([
    [
      "agree",
      [
        { cluster: "eu", value: "https://i/realms/r" },
        { cluster: "us", value: "https://i/realms/r" },
      ],
      0,
    ],
    [
      "disagree",
      [
        { cluster: "eu", value: "https://i/realms/r" },
        { cluster: "us", value: "https://other/realms/r" },
      ],
      1,
    ],
  ] as const)("clusters that %s", (_l, values, findings) => {
    const out = sameEverywhere("issuer", values);
    expect(out).toHaveLength(findings);
    if (findings) expect(out[0]!.message).toContain('eu: "https://i/realms/r" | us: "https://other/realms/r"');
  });

  it("checks a workload token's iss, sub, aud (a string, not a list), tags and integer timestamps", async () => {
    const d = await desiredOf();
    const payments = d.clients.find((c) => c.clientId === "payments-api")!;
    const expected = expectedClaims(d, payments, "kcb-aws");
    const good = {
      iss: d.issuer,
      sub: "workload:payments-api",
      aud: "sts.amazonaws.com",
      exp: 2,
      iat: 1,
      "https://aws.amazon.com/tags": { principal_tags: { "cost-center": ["4711"], team: ["payments"] }, transitive_tag_keys: ["team"] },
    };
    expect(claimFindings("eu", "t", expected, good)).toEqual([]);
    const bad = { ...good, sub: "0b1c-uuid", aud: ["sts.amazonaws.com"], exp: 2.5, "https://aws.amazon.com/tags": undefined };
    expect(claimFindings("eu", "t", expected, bad).map((f) => f.message)).toEqual([
      't: sub is "0b1c-uuid", expected "workload:payments-api"',
      't: aud is ["sts.amazonaws.com"], expected "sts.amazonaws.com"',
      expect.stringContaining("https://aws.amazon.com/tags is missing"),
      "t: exp is not an integer (2.5)",
    ]);
  });
});

describe("plan text", () => {
  it("shows one line per resource and one per field, secrets hidden", async () => {
    const d = await desiredOf();
    const live = liveOf(d);
    live.clients.find((c) => c.clientId === "legacy-etl")!.secret = "old";
    live.realm!.accessTokenLifespan = 60;
    const text = formatClusterPlan(diffCluster("eu", d, live), { url: "https://kc-eu.example" });
    expect(text).toBe(
      [
        "eu (https://kc-eu.example, realm unit): 0 to create, 2 to update, 0 to delete",
        "  ~ realm unit",
        "      accessTokenLifespan: 60 → 600",
        "  ~ client legacy-etl",
        '      secret: "(sensitive value)" → "(sensitive value)"',
      ].join("\n"),
    );
    expect(formatClusterPlan(diffCluster("us", d, liveOf(d)))).toBe("us (realm unit): in sync");
  });
});
