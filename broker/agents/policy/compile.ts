/**
 * Compiles realm-config's `workloads` and `agents` into a {@link CompiledPolicy}. Pure. Returns every
 * problem with its path instead of stopping at the first; a policy with problems is never used (the
 * store keeps the previous one).
 *
 * Rules beyond the schema: an agent names its actor (`match.subject` or `match.clientId`); its
 * `match.issuer` is the trust domain's (no other issuer is verified); `actFor` names existing
 * workloads or `*`; each target exists at some workload it acts for and only narrows it (duration
 * within the role's maximum, scopes a subset of the identity's, a session policy of at most 2048
 * characters with `Version` and `Statement`).
 */
import { workloadClientId } from "../../../realm-config/model/conventions.ts";
import type { TrustDomain } from "../../../realm-config/model/schema.ts";
import {
  DEFAULT_AGENT_AWS_DURATION,
  MAX_SESSION_POLICY_CHARS,
  type CompiledAgent,
  type CompiledAwsTarget,
  type CompiledAzureTarget,
  type CompiledPolicy,
  type CompiledWorkload,
} from "./types.ts";

export type PolicySource = Pick<TrustDomain, "issuer" | "workloads" | "agents">;

export interface PolicyIssue {
  path: string;
  message: string;
}

export type CompileResult = { ok: true; policy: CompiledPolicy } | { ok: false; issues: PolicyIssue[] };

function compileWorkloads(source: PolicySource, issues: PolicyIssue[]): Map<string, CompiledWorkload> {
  const bySubject = new Map<string, CompiledWorkload>();
  source.workloads.forEach((w, i) => {
    if (bySubject.has(w.subject))
      issues.push({ path: `workloads[${i}].subject`, message: `subject ${JSON.stringify(w.subject)} used twice` });
    bySubject.set(w.subject, {
      name: w.name,
      subject: w.subject,
      clientId: workloadClientId(w.name),
      awsRoles: new Map((w.aws?.roles ?? []).map((r) => [r.arn, r.maxSessionDuration])),
      azureIdentities: (w.azure?.identities ?? []).map((id) => ({
        name: id.name,
        tenantId: id.tenantId,
        clientId: id.clientId.toLowerCase(),
        scopes: id.scopes,
      })),
    });
  });
  return bySubject;
}

function sessionPolicyText(policy: Record<string, unknown>, path: string, issues: PolicyIssue[]): string {
  const text = JSON.stringify(policy);
  if (text.length > MAX_SESSION_POLICY_CHARS)
    issues.push({ path, message: `session policy is ${text.length} characters, STS takes at most ${MAX_SESSION_POLICY_CHARS}` });
  if (policy.Version !== "2012-10-17") issues.push({ path, message: 'session policy needs Version "2012-10-17"' });
  const statement = policy.Statement;
  const statements = Array.isArray(statement) ? statement : [statement];
  if (statement === undefined || statements.length === 0 || !statements.every((s) => typeof s === "object" && s !== null)) {
    issues.push({ path, message: "session policy needs a Statement" });
  }
  return text;
}

function compileAgent(
  agent: PolicySource["agents"][number],
  i: number,
  source: PolicySource,
  workloads: CompiledWorkload[],
  issues: PolicyIssue[],
): CompiledAgent {
  const at = `agents[${i}]`;
  const { match } = agent;
  if (match.subject === undefined && match.clientId === undefined)
    issues.push({ path: `${at}.match`, message: "name the actor: match.subject or match.clientId" });
  if (match.issuer !== undefined && match.issuer !== source.issuer)
    issues.push({ path: `${at}.match.issuer`, message: "only tokens of the trust domain's issuer are verified" });

  const names = new Set(workloads.map((w) => w.name));
  agent.actFor.forEach((name, j) => {
    if (name !== "*" && !names.has(name)) issues.push({ path: `${at}.actFor[${j}]`, message: `no workload named ${JSON.stringify(name)}` });
  });
  const actForAll = agent.actFor.includes("*");
  const inScope = workloads.filter((w) => actForAll || agent.actFor.includes(w.name));

  const aws = new Map<string, CompiledAwsTarget>();
  const azure = new Map<string, CompiledAzureTarget>();
  agent.targets.forEach((target, j) => {
    const tp = `${at}.targets[${j}]`;
    if ("aws" in target) {
      const { role, maxDuration, sessionPolicy } = target.aws;
      const maxima = inScope.flatMap((w) => (w.awsRoles.has(role) ? [w.awsRoles.get(role) ?? 0] : []));
      if (maxima.length === 0) issues.push({ path: `${tp}.aws.role`, message: "not a role of any workload this agent acts for" });
      const duration = maxDuration ?? DEFAULT_AGENT_AWS_DURATION;
      if (maxima.some((max) => duration > max))
        issues.push({ path: `${tp}.aws.maxDuration`, message: `${duration} s exceeds the role's maximum session duration` });
      if (aws.has(role)) issues.push({ path: `${tp}.aws.role`, message: "role listed twice" });
      aws.set(role, {
        roleArn: role,
        maxDuration: duration,
        ...(sessionPolicy ? { sessionPolicy: sessionPolicyText(sessionPolicy, `${tp}.aws.sessionPolicy`, issues) } : {}),
      });
    } else {
      const { identity, scopes } = target.azure;
      const found = inScope.flatMap((w) => w.azureIdentities.filter((id) => id.name === identity));
      if (found.length === 0)
        issues.push({ path: `${tp}.azure.identity`, message: "not an Azure identity of any workload this agent acts for" });
      for (const [k, scope] of (scopes ?? []).entries()) {
        if (found.some((id) => !id.scopes.includes(scope)))
          issues.push({ path: `${tp}.azure.scopes[${k}]`, message: `${JSON.stringify(scope)} is not a scope of identity ${identity}` });
      }
      if (azure.has(identity)) issues.push({ path: `${tp}.azure.identity`, message: "identity listed twice" });
      azure.set(identity, { identity, ...(scopes ? { scopes } : {}) });
    }
  });

  return {
    name: agent.name,
    match: {
      issuer: match.issuer ?? source.issuer,
      ...(match.subject !== undefined ? { subject: match.subject } : {}),
      ...(match.clientId !== undefined ? { clientId: match.clientId } : {}),
      claims: Object.entries(match.claims ?? {}),
    },
    actForAll,
    actFor: new Set(agent.actFor.filter((n) => n !== "*")),
    aws,
    azure,
  };
}

/** @example const result = compilePolicy(trustDomain, sha256(text).slice(0, 16)); */
export function compilePolicy(source: PolicySource, revision: string): CompileResult {
  const issues: PolicyIssue[] = [];
  const workloadsBySubject = compileWorkloads(source, issues);
  const workloads = [...workloadsBySubject.values()];
  const seen = new Set<string>();
  const agents = source.agents.map((agent, i) => {
    if (seen.has(agent.name)) issues.push({ path: `agents[${i}].name`, message: `agent ${agent.name} defined twice` });
    seen.add(agent.name);
    return compileAgent(agent, i, source, workloads, issues);
  });
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, policy: { issuer: source.issuer, revision, workloadsBySubject, agents } };
}
