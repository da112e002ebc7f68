import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { trustDomainJsonSchema } from "../../../../realm-config/model/json-schema.ts";

const COMMITTED = new URL("../../../../realm-config/trust-domain.schema.json", import.meta.url);

describe("realm-config/trust-domain.schema.json", () => {
  it("is exactly what the zod schema generates (run `npm run realm-sync -- schema` after changing schema.ts)", () => {
    expect(readFileSync(COMMITTED, "utf8")).toBe(trustDomainJsonSchema());
  });

  it("describes the top-level fields editors complete", () => {
    const schema = JSON.parse(trustDomainJsonSchema()) as {
      properties: Record<string, unknown>;
      required: string[];
      additionalProperties: boolean;
    };
    expect(Object.keys(schema.properties)).toEqual([
      "version",
      "realm",
      "issuer",
      "clusters",
      "signingKeys",
      "tokens",
      "kubernetesIssuers",
      "workloads",
      "agents",
    ]);
    expect(schema.required).toEqual(["version", "realm", "issuer", "clusters", "signingKeys"]);
    expect(schema.additionalProperties).toBe(false);
  });

  it("is referenced by the example trust domain", () => {
    const example = readFileSync(new URL("../../../../realm-config/example/trust-domain.yaml", import.meta.url), "utf8");
    expect(example.split("\n")[0]).toBe("# yaml-language-server: $schema=../trust-domain.schema.json");
  });
});
