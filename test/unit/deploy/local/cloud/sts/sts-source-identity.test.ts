/**
 * The trust policies `export-trust` generates, evaluated by the STS emulator as IAM does: a plain
 * workload session must not carry a source identity; a delegated session must carry one of the
 * declared `agent@workload` values for that workload, never another agent's or another workload's.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { buildTrustExport } from "../../../../../../admin-scripts/trust/export.ts";
import { AWS_SOURCE_IDENTITY_CLAIM } from "../../../../../../realm-config/model/conventions.ts";
import { TrustDomain } from "../../../../../../realm-config/model/schema.ts";
import { goodClaims, ISSUER, sign } from "../../../../../support/fixtures/cloud.ts";
import { stsHarness, type StsHarness } from "../../../../../support/cloud/sts-harness.ts";

const READER = "arn:aws:iam::111122223333:role/billing-reader";
const SHARED = "arn:aws:iam::111122223333:role/shared-audit";
const PLAIN_ONLY = "arn:aws:iam::111122223333:role/billing-writer";

const config = TrustDomain.parse({
  version: 1,
  realm: "kcb",
  issuer: ISSUER,
  clusters: [{ name: "eu", adminUrl: "https://kc.example", auth: { username: "admin", password: { env: "P" } } }],
  signingKeys: [
    { name: "main", certificate: { file: "unused.crt" }, keystore: { file: "main.p12", passwordVault: "main-keystore" }, status: "active" },
  ],
  workloads: [
    {
      name: "billing",
      subject: "workload:billing",
      authentication: { clientSecret: { env: "S" } },
      aws: { roles: [{ arn: READER }, { arn: SHARED }, { arn: PLAIN_ONLY }] },
    },
    { name: "reports", subject: "workload:reports", authentication: { clientSecret: { env: "S" } }, aws: { roles: [{ arn: SHARED }] } },
  ],
  agents: [
    {
      name: "copilot",
      match: { clientId: "agent-copilot" },
      actFor: ["billing"],
      targets: [{ aws: { role: READER } }, { aws: { role: SHARED } }],
    },
    { name: "auditor", match: { clientId: "agent-auditor" }, actFor: ["reports"], targets: [{ aws: { role: SHARED } }] },
  ],
});

let h: StsHarness;
let nowSec: number;
beforeEach(async () => {
  h = await stsHarness({ trust: buildTrustExport(config) });
  nowSec = Math.floor(h.clock.now / 1000);
});

async function assume(role: string, sub: string, sourceIdentity?: string): Promise<string> {
  const token = await sign(
    h.key,
    goodClaims(nowSec, { sub, ...(sourceIdentity !== undefined ? { [AWS_SOURCE_IDENTITY_CLAIM]: sourceIdentity } : {}) }),
  );
  const reply = await h.post({
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: role,
    RoleSessionName: "s-1",
    WebIdentityToken: token,
  });
  return reply.code ?? "OK";
}

describe("export-trust × STS emulator: source identity", () => {
  it.each<[string, string, string, string | undefined, string]>([
    ["a plain workload session", READER, "workload:billing", undefined, "OK"],
    ["a plain session of a role no agent targets", PLAIN_ONLY, "workload:billing", undefined, "OK"],
    ["the declared agent@workload", READER, "workload:billing", "copilot@billing", "OK"],
    ["each declared chain on a shared role, for its own workload", SHARED, "workload:reports", "auditor@reports", "OK"],
    ["an undeclared source identity", READER, "workload:billing", "intruder@billing", "AccessDenied"],
    ["another workload's chain under this workload's sub", SHARED, "workload:billing", "auditor@reports", "AccessDenied"],
    ["a chain of an agent that does not act for this workload", SHARED, "workload:reports", "copilot@billing", "AccessDenied"],
    ["any source identity on a role no agent targets", PLAIN_ONLY, "workload:billing", "copilot@billing", "AccessDenied"],
  ])("%s → %s", async (_name, role, sub, sourceIdentity, code) => {
    expect(await assume(role, sub, sourceIdentity)).toBe(code);
    expect(h.sessions.all()).toHaveLength(code === "OK" ? 1 : 0);
    if (code === "OK") expect(h.sessions.all()[0]?.sourceIdentity).toBe(sourceIdentity);
  });

  it("states it in the policy: Null on plain statements, the declared values with sts:SetSourceIdentity on delegated ones", () => {
    const role = buildTrustExport(config).aws.roles.find((r) => r.Arn === SHARED);
    const statements = role?.AssumeRolePolicyDocument.Statement ?? [];
    expect(statements[0]).toMatchObject({
      Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
      Condition: { Null: { "sts:SourceIdentity": "true" } },
    });
    expect(statements.slice(1).map((s) => [s.Action, s.Condition?.StringEquals?.["sts:SourceIdentity"], s.Condition?.Null])).toEqual([
      [["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity", "sts:TagSession"], "copilot@billing", undefined],
      [["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity", "sts:TagSession"], "auditor@reports", undefined],
    ]);
  });
});
