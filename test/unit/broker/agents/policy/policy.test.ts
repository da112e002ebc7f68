import { describe, expect, it } from "vitest";
import { TrustDomain } from "../../../../../realm-config/model/schema.ts";
import { compilePolicy } from "../../../../../broker/agents/policy/compile.ts";
import { evaluate, mayActPermits, type ExchangeFacts } from "../../../../../broker/agents/policy/evaluate.ts";
import type { TargetRef } from "../../../../../broker/agents/target.ts";
import {
  AZ_CLIENT,
  ISSUER,
  ROLE,
  ROLE_REPORTS,
  ROLE_WRITER,
  SESSION_POLICY,
  STORAGE,
  VAULT,
  policyFrom,
  trustDomainInput,
} from "../../../../support/fixtures/agents.ts";

const policy = policyFrom();
const copilot = { iss: ISSUER, sub: "sa-copilot", azp: "agent-copilot" };
const auditor = { iss: ISSUER, sub: "sa-auditor", azp: "agent-auditor", team: "sec" };
const billing = { iss: ISSUER, sub: "wl-billing", azp: "billing" };
const reports = { iss: ISSUER, sub: "wl-reports", azp: "reports" };
const aws = (roleArn: string): TargetRef => ({ cloud: "aws", roleArn });
const azure = (identity: string): TargetRef => ({ cloud: "azure", identity });

function facts(subject: ExchangeFacts["subject"], actor: ExchangeFacts["actor"], target: TargetRef, scopes: string[] = []): ExchangeFacts {
  return { subject, actor, target, scopes };
}

describe("evaluate: allowed", () => {
  it("narrows an AWS role: the rule's shorter duration and its session policy", () => {
    expect(evaluate(policy, facts(billing, copilot, aws(ROLE)))).toEqual({
      allow: true,
      rule: "copilot",
      workload: "billing",
      grant: { cloud: "aws", roleArn: ROLE, durationSeconds: 1800, sessionPolicy: JSON.stringify(SESSION_POLICY) },
    });
  });

  it("gives 15 minutes when the rule sets no duration, never more than the role allows", () => {
    const decision = evaluate(policy, facts(reports, auditor, aws(ROLE_REPORTS)));
    expect(decision).toEqual({
      allow: true,
      rule: "auditor",
      workload: "reports",
      grant: { cloud: "aws", roleArn: ROLE_REPORTS, durationSeconds: 900 },
    });
  });

  it.each([
    ["by name, default scope", azure("storage"), [] as string[]],
    ["by client id", azure(AZ_CLIENT), []],
    ["with the allowed scope", azure("storage"), [STORAGE]],
  ])("issues an Azure scope of the identity %s", (_name, target, scopes) => {
    expect(evaluate(policy, facts(billing, copilot, target, scopes))).toEqual({
      allow: true,
      rule: "copilot",
      workload: "billing",
      grant: { cloud: "azure", identity: "storage", tenantId: expect.any(String) as string, clientId: AZ_CLIENT, scope: STORAGE },
    });
  });

  it("reports the first rule in file order that allows the request", () => {
    const input = trustDomainInput();
    (input.agents as unknown[]).push({
      name: "copilot-too",
      match: { clientId: "agent-copilot" },
      actFor: ["billing"],
      targets: [{ aws: { role: ROLE } }],
    });
    const decision = evaluate(policyFrom(input), facts(billing, copilot, aws(ROLE)));
    expect(decision.allow && decision.rule).toBe("copilot");
  });
});

describe("evaluate: denied (default deny)", () => {
  it.each<[string, ExchangeFacts, string]>([
    ["a subject that is no workload", facts({ iss: ISSUER, sub: "someone" }, copilot, aws(ROLE)), "SUBJECT_UNKNOWN"],
    [
      "a subject whose sub only starts like a workload's",
      facts({ iss: ISSUER, sub: "wl-billing-2" }, copilot, aws(ROLE)),
      "SUBJECT_UNKNOWN",
    ],
    [
      "a subject from another issuer",
      facts({ iss: "https://other.example/realms/td", sub: "wl-billing" }, copilot, aws(ROLE)),
      "SUBJECT_UNKNOWN",
    ],
    [
      "a subject token another client minted with the workload's sub",
      facts({ ...billing, azp: "reports" }, copilot, aws(ROLE)),
      "SUBJECT_CLIENT_MISMATCH",
    ],
    ["a subject token without azp", facts({ iss: ISSUER, sub: "wl-billing" }, copilot, aws(ROLE)), "SUBJECT_CLIENT_MISMATCH"],
    ["an actor no rule names", facts(billing, { iss: ISSUER, sub: "x", azp: "agent-unknown" }, aws(ROLE)), "AGENT_UNKNOWN"],
    [
      "an actor whose client id only contains a rule's",
      facts(billing, { iss: ISSUER, sub: "x", azp: "agent-copilot-evil" }, aws(ROLE)),
      "AGENT_UNKNOWN",
    ],
    ["an actor missing a required claim", facts(reports, { ...auditor, team: "ops" }, aws(ROLE_REPORTS)), "AGENT_UNKNOWN"],
    ["an actor from another issuer", facts(billing, { ...copilot, iss: "https://other.example/realms/td" }, aws(ROLE)), "AGENT_UNKNOWN"],
    ["an agent acting for a workload it is not allowed to", facts(reports, copilot, aws(ROLE_REPORTS)), "ACTOR_NOT_PERMITTED"],
    ["a role the rule does not list", facts(billing, copilot, aws(ROLE_WRITER)), "TARGET_NOT_ALLOWED"],
    ["a role of another workload", facts(billing, auditor, aws(ROLE_REPORTS)), "TARGET_NOT_ALLOWED"],
    ["an unknown Azure identity", facts(billing, copilot, azure("vault")), "TARGET_NOT_ALLOWED"],
    ["a scope for an AWS role", facts(billing, copilot, aws(ROLE), ["s3"]), "SCOPE_NOT_ALLOWED"],
    [
      "an Azure scope of the identity the rule does not grant (widening)",
      facts(billing, copilot, azure("storage"), [VAULT]),
      "SCOPE_NOT_ALLOWED",
    ],
    [
      "an Azure scope outside the identity",
      facts(billing, copilot, azure("storage"), ["https://graph.microsoft.com/.default"]),
      "SCOPE_NOT_ALLOWED",
    ],
    ["two Azure scopes at once", facts(billing, copilot, azure("storage"), [STORAGE, VAULT]), "SCOPE_NOT_ALLOWED"],
    [
      "a subject whose may_act names another actor",
      facts({ ...billing, may_act: { sub: "sa-other" } }, copilot, aws(ROLE)),
      "SUBJECT_FORBIDS_ACTOR",
    ],
  ])("%s", (_name, input, reason) => {
    const decision = evaluate(policy, input);
    expect(decision.allow).toBe(false);
    expect(!decision.allow && decision.reason).toBe(reason);
  });

  it("denies everything with an empty agents section", () => {
    const input = { ...trustDomainInput(), agents: [] };
    expect(evaluate(policyFrom(input), facts(billing, copilot, aws(ROLE)))).toEqual({
      allow: false,
      reason: "AGENT_UNKNOWN",
      workload: "billing",
    });
  });
});

describe("may_act (RFC 8693 §4.4)", () => {
  it.each([
    ["absent", {}, true],
    ["naming the actor's sub", { may_act: { sub: "sa-copilot" } }, true],
    ["naming the actor's sub and issuer", { may_act: { sub: "sa-copilot", iss: ISSUER } }, true],
    ["naming the actor's client id", { may_act: { client_id: "agent-copilot" } }, true],
    ["naming another sub", { may_act: { sub: "sa-other" } }, false],
    ["naming the sub at another issuer", { may_act: { sub: "sa-copilot", iss: "https://other.example" } }, false],
    ["naming another client id", { may_act: { sub: "sa-copilot", client_id: "agent-other" } }, false],
    ["naming no one", { may_act: { iss: ISSUER } }, false],
    ["not an object", { may_act: "sa-copilot" }, false],
    ["null", { may_act: null }, false],
  ])("%s → %s", (_name, subjectClaims, permits) => {
    expect(mayActPermits({ ...billing, ...subjectClaims }, copilot)).toBe(permits);
  });
});

describe("compilePolicy", () => {
  const compileWith = (mutate: (input: { workloads: Array<Record<string, unknown>>; agents: Array<Record<string, unknown>> }) => void) => {
    const input = trustDomainInput() as { workloads: Array<Record<string, unknown>>; agents: Array<Record<string, unknown>> };
    mutate(input);
    return compilePolicy(TrustDomain.parse(input), "r");
  };

  it("compiles the fixture", () => {
    expect(compileWith(() => {}).ok).toBe(true);
  });

  it.each<[string, (input: { workloads: Array<Record<string, unknown>>; agents: Array<Record<string, unknown>> }) => void, string]>([
    ["an agent naming no actor", (i) => void (i.agents[0] = { ...i.agents[0], match: {} }), "agents[0].match"],
    [
      "an agent for another issuer",
      (i) => void (i.agents[0] = { ...i.agents[0], match: { clientId: "a", issuer: "https://other.example/realms/td" } }),
      "agents[0].match.issuer",
    ],
    ["actFor an unknown workload", (i) => void (i.agents[0] = { ...i.agents[0], actFor: ["nobody"] }), "agents[0].actFor[0]"],
    [
      "a role of no workload it acts for",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ aws: { role: ROLE_REPORTS } }] }),
      "agents[0].targets[0].aws.role",
    ],
    [
      "a duration beyond the role's maximum",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ aws: { role: ROLE, maxDuration: 7200 } }] }),
      "agents[0].targets[0].aws.maxDuration",
    ],
    [
      "a session policy without Version",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ aws: { role: ROLE, sessionPolicy: { Statement: [{}] } } }] }),
      "agents[0].targets[0].aws.sessionPolicy",
    ],
    [
      "a session policy without Statement",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ aws: { role: ROLE, sessionPolicy: { Version: "2012-10-17" } } }] }),
      "agents[0].targets[0].aws.sessionPolicy",
    ],
    [
      "a session policy over 2048 characters",
      (i) =>
        void (i.agents[0] = {
          ...i.agents[0],
          targets: [
            {
              aws: {
                role: ROLE,
                sessionPolicy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:*", Resource: "x".repeat(2100) }] },
              },
            },
          ],
        }),
      "agents[0].targets[0].aws.sessionPolicy",
    ],
    [
      "an Azure identity of no workload it acts for",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ azure: { identity: "nope" } }] }),
      "agents[0].targets[0].azure.identity",
    ],
    [
      "Azure scopes wider than the identity's",
      (i) =>
        void (i.agents[0] = {
          ...i.agents[0],
          targets: [{ azure: { identity: "storage", scopes: ["https://graph.microsoft.com/.default"] } }],
        }),
      "agents[0].targets[0].azure.scopes[0]",
    ],
    [
      "a role listed twice",
      (i) => void (i.agents[0] = { ...i.agents[0], targets: [{ aws: { role: ROLE } }, { aws: { role: ROLE } }] }),
      "agents[0].targets[1].aws.role",
    ],
    ["two agents with one name", (i) => void i.agents.push({ ...i.agents[0] }), "agents[2].name"],
    ["two workloads with one subject", (i) => void (i.workloads[1] = { ...i.workloads[1], subject: "wl-billing" }), "workloads[1].subject"],
  ])("refuses %s", (_name, mutate, path) => {
    const result = compileWith(mutate);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.issues.map((i) => i.path)).toContain(path);
  });

  it("reports every problem, not only the first", () => {
    const result = compileWith((i) => {
      i.agents[0] = { ...i.agents[0], match: {}, actFor: ["nobody"] };
      i.agents[1] = { ...i.agents[1], targets: [{ aws: { role: ROLE, maxDuration: 900 } }, { azure: { identity: "nope" } }] };
    });
    expect(!result.ok && result.issues.length).toBeGreaterThanOrEqual(4);
  });
});
