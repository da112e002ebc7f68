import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzCase, leaksCredential, type FuzzCase, type FuzzInputs } from "../../../bench/fuzz/cases.ts";

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: "RS256", kid: "k1", typ: "JWT" })}.${b64(claims)}.${"s".repeat(342)}`;
const inputs: FuzzInputs = {
  subjectToken: jwt({ iss: "https://kc/realms/r", sub: "workload:a", aud: "kcb-agents", exp: 2e9, iat: 1e9 }),
  actorToken: jwt({ iss: "https://kc/realms/r", sub: "agent:b", azp: "b", aud: "kcb-agents", exp: 2e9, iat: 1e9, jti: "j" }),
  otherAudienceToken: jwt({ iss: "https://kc/realms/r", sub: "workload:a", aud: "sts.amazonaws.com", exp: 2e9, iat: 1e9 }),
  roleArn: "arn:aws:iam::123456789012:role/app",
  awsAuthToken: "A".repeat(20) + "b".repeat(23),
  identityHeader: "C".repeat(20) + "d".repeat(23),
  resource: "api://kcb-emulator-resource",
  awsTarget: "main",
};
const validForm = new URLSearchParams([
  ["grant_type", "urn:ietf:params:oauth:grant-type:token-exchange"],
  ["subject_token", inputs.subjectToken],
  ["subject_token_type", "urn:ietf:params:oauth:token-type:jwt"],
  ["actor_token", inputs.actorToken],
  ["actor_token_type", "urn:ietf:params:oauth:token-type:jwt"],
  ["resource", inputs.roleArn],
]);

const header = (c: FuzzCase, name: string) => c.headers.find(([k]) => k.toLowerCase() === name)?.[1];

describe("fuzz cases are invalid by construction", () => {
  const cases = fc.sample(fuzzCase(inputs), { numRuns: 3_000, seed: 42 });

  it("every case names at least one mutation, and every endpoint is covered", () => {
    for (const c of cases) expect(c.mutations.length).toBeGreaterThan(0);
    expect(new Set(cases.map((c) => c.endpoint))).toEqual(new Set(["token", "aws-container", "azure-app-service", "azure-imds"]));
  });

  it("a token-exchange case never carries the valid request as a well-formed POST form", () => {
    for (const c of cases.filter((x) => x.endpoint === "token")) {
      const isForm =
        c.method === "POST" &&
        /^application\/x-www-form-urlencoded/.test(header(c, "content-type") ?? "") &&
        (c.body?.length ?? 0) <= 32 * 1024;
      if (!isForm) continue;
      const form = new URLSearchParams(c.body);
      const sameAsValid =
        [...validForm.keys()].every((k) => form.getAll(k).length === 1 && form.get(k) === validForm.get(k)) &&
        !form.has("audience") &&
        !form.has("scope") &&
        !form.has("requested_token_type");
      expect(sameAsValid, c.mutations.join("; ")).toBe(false);
    }
  });

  it("a credential-endpoint case never has the right secret for a configured target", () => {
    for (const c of cases) {
      if (c.endpoint === "aws-container") expect(header(c, "authorization")).not.toBe(inputs.awsAuthToken);
      if (c.endpoint === "azure-app-service" && header(c, "x-identity-header") === inputs.identityHeader) {
        expect(new URL(c.path, "http://x").searchParams.get("resource")?.replace(/\/+$/, "")).not.toBe(inputs.resource);
      }
      if (c.endpoint === "azure-imds") {
        const resource = new URL(c.path, "http://x").searchParams.get("resource")?.replace(/\/+$/, "");
        const foreign = header(c, "host") !== undefined || header(c, "x-forwarded-for") !== undefined || header(c, "metadata") !== "true";
        expect(foreign || resource !== inputs.resource, c.mutations.join("; ")).toBe(true);
      }
    }
  });
});

describe("leak detection", () => {
  it.each([
    [200, '{"AccessKeyId":"ASIA…"}', true],
    [200, '{"access_token":"eyJ…"}', true],
    [400, '{"error":"invalid_request","access_token":"x"}', false],
    [200, '{"status":"ok"}', false],
  ])("HTTP %d %s → %s", (status, body, leak) => {
    expect(leaksCredential(status, body)).toBe(leak);
  });
});
