/**
 * The policy decision for one exchange: may this actor, acting for this subject, get this target
 * with these scopes? Pure and default-deny. Matching is exact (whole strings, never substrings or
 * patterns). Checks, in order:
 *
 * 1. the subject token's `sub` is a workload's subject                      — else SUBJECT_UNKNOWN
 *    and its `azp` is that workload's own client (no other client may mint it) — else SUBJECT_CLIENT_MISMATCH
 * 2. some agent rule matches the actor (issuer, subject, client id, claims) — else AGENT_UNKNOWN
 * 3. one of those rules acts for that workload (`actFor`)                   — else ACTOR_NOT_PERMITTED
 * 4. the subject's `may_act` claim, when present, names the actor (RFC 8693 §4.4) — else SUBJECT_FORBIDS_ACTOR
 * 5. one of those rules has the target, and the workload has it too        — else TARGET_NOT_ALLOWED
 * 6. the scopes narrow the target (none for AWS; one allowed scope for Azure) — else SCOPE_NOT_ALLOWED
 *
 * The first rule in file order that passes all checks is reported as the matched rule.
 */
import type { JWTPayload } from "jose";
import type { PolicyDenialCode } from "../../errors.ts";
import type { TargetRef } from "../target.ts";
import type { ActorMatch, CompiledAgent, CompiledPolicy, CompiledWorkload } from "./types.ts";

export type DenialReason = PolicyDenialCode;

export interface ExchangeFacts {
  /** Verified claims of the subject token. */
  subject: JWTPayload & { iss: string; sub: string };
  /** Verified claims of the actor token. */
  actor: JWTPayload & { iss: string; sub: string };
  target: TargetRef;
  scopes: readonly string[];
}

export interface AwsGrant {
  cloud: "aws";
  roleArn: string;
  durationSeconds: number;
  sessionPolicy?: string;
}

export interface AzureGrant {
  cloud: "azure";
  identity: string;
  tenantId: string;
  clientId: string;
  scope: string;
}

export type Decision =
  | { allow: true; rule: string; workload: string; grant: AwsGrant | AzureGrant }
  | { allow: false; reason: DenialReason; workload?: string; rules?: string[] };

/** The actor's OAuth client: `azp`, else `client_id` (RFC 8693 §4.3). */
export function actorClientId(actor: JWTPayload): string | undefined {
  if (typeof actor.azp === "string") return actor.azp;
  return typeof actor.client_id === "string" ? actor.client_id : undefined;
}

function claimMatches(actual: unknown, expected: string | number | boolean): boolean {
  return actual === expected || (Array.isArray(actual) && actual.includes(expected));
}

function matchesActor(match: ActorMatch, actor: ExchangeFacts["actor"]): boolean {
  if (actor.iss !== match.issuer) return false;
  if (match.subject !== undefined && actor.sub !== match.subject) return false;
  if (match.clientId !== undefined && actorClientId(actor) !== match.clientId) return false;
  return match.claims.every(([name, value]) => claimMatches(actor[name], value));
}

/**
 * RFC 8693 §4.4: `may_act` names the party allowed to act for the subject. Every identifying member
 * it has (`sub`, `iss`, `client_id`) must equal the actor's; one that identifies no one, or is not
 * an object, permits no one. Absent: the subject states no restriction (the policy still decides).
 */
export function mayActPermits(subject: JWTPayload, actor: ExchangeFacts["actor"]): boolean {
  if (!("may_act" in subject)) return true;
  const mayAct = subject.may_act;
  if (typeof mayAct !== "object" || mayAct === null || Array.isArray(mayAct)) return false;
  const m = mayAct as Record<string, unknown>;
  if (m.sub === undefined && m.client_id === undefined) return false;
  if (m.sub !== undefined && m.sub !== actor.sub) return false;
  if (m.iss !== undefined && m.iss !== actor.iss) return false;
  return m.client_id === undefined || m.client_id === actorClientId(actor);
}

type TargetCheck = { ok: true; grant: AwsGrant | AzureGrant } | { ok: false; reason: "TARGET_NOT_ALLOWED" | "SCOPE_NOT_ALLOWED" };

function checkTarget(agent: CompiledAgent, workload: CompiledWorkload, target: TargetRef, scopes: readonly string[]): TargetCheck {
  if (target.cloud === "aws") {
    const allowed = agent.aws.get(target.roleArn);
    const roleMax = workload.awsRoles.get(target.roleArn);
    if (!allowed || roleMax === undefined) return { ok: false, reason: "TARGET_NOT_ALLOWED" };
    if (scopes.length > 0) return { ok: false, reason: "SCOPE_NOT_ALLOWED" };
    const grant: AwsGrant = { cloud: "aws", roleArn: target.roleArn, durationSeconds: Math.min(allowed.maxDuration, roleMax) };
    return { ok: true, grant: allowed.sessionPolicy === undefined ? grant : { ...grant, sessionPolicy: allowed.sessionPolicy } };
  }
  const identity = workload.azureIdentities.find((id) => id.name === target.identity || id.clientId === target.identity);
  const allowed = identity && agent.azure.get(identity.name);
  if (!identity || !allowed) return { ok: false, reason: "TARGET_NOT_ALLOWED" };
  const permitted = (allowed.scopes ?? identity.scopes).filter((s) => identity.scopes.includes(s));
  const scope = scopes.length === 0 ? permitted[0] : scopes.length === 1 ? scopes[0] : undefined;
  if (scope === undefined || !permitted.includes(scope)) return { ok: false, reason: "SCOPE_NOT_ALLOWED" };
  return { ok: true, grant: { cloud: "azure", identity: identity.name, tenantId: identity.tenantId, clientId: identity.clientId, scope } };
}

/** @example const decision = evaluate(policy, { subject, actor, target, scopes: [] }); */
export function evaluate(policy: CompiledPolicy, facts: ExchangeFacts): Decision {
  const workload = facts.subject.iss === policy.issuer ? policy.workloadsBySubject.get(facts.subject.sub) : undefined;
  if (!workload) return { allow: false, reason: "SUBJECT_UNKNOWN" };
  if (facts.subject.azp !== workload.clientId) return { allow: false, reason: "SUBJECT_CLIENT_MISMATCH", workload: workload.name };

  const matching = policy.agents.filter((agent) => matchesActor(agent.match, facts.actor));
  if (matching.length === 0) return { allow: false, reason: "AGENT_UNKNOWN", workload: workload.name };
  const rules = matching.map((a) => a.name);

  const acting = matching.filter((agent) => agent.actForAll || agent.actFor.has(workload.name));
  if (acting.length === 0) return { allow: false, reason: "ACTOR_NOT_PERMITTED", workload: workload.name, rules };
  if (!mayActPermits(facts.subject, facts.actor)) return { allow: false, reason: "SUBJECT_FORBIDS_ACTOR", workload: workload.name, rules };

  let reason: "TARGET_NOT_ALLOWED" | "SCOPE_NOT_ALLOWED" = "TARGET_NOT_ALLOWED";
  for (const agent of acting) {
    const check = checkTarget(agent, workload, facts.target, facts.scopes);
    if (check.ok) return { allow: true, rule: agent.name, workload: workload.name, grant: check.grant };
    if (check.reason === "SCOPE_NOT_ALLOWED") reason = check.reason;
  }
  return { allow: false, reason, workload: workload.name, rules: acting.map((a) => a.name) };
}
