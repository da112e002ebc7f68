/**
 * IAM role trust-policy evaluation for web-identity federation, the part IAM applies to
 * AssumeRoleWithWebIdentity: default deny, an explicit Deny wins, a statement applies when its
 * Principal.Federated names the token's IAM OIDC provider, its Action matches, and every condition
 * holds (IAM User Guide, "Policy evaluation logic" and "IAM JSON policy elements: Condition operators").
 *
 * Policies are compiled once (unknown operators or statement keys are configuration errors, thrown as
 * `TypeError` at start-up), then evaluated purely against a request context of condition keys such as
 * `<provider-url-without-https>:sub`, `:aud`, `sts:RoleSessionName`, `aws:RequestTag/K`, `aws:TagKeys`.
 * Condition key names compare case-insensitively, values case-sensitively (except `…IgnoreCase`).
 */
import type { PolicyDocument, PolicyStatement } from "../../../../admin-scripts/trust/artifacts.ts";

export type ContextValue = string | string[] | undefined;
/** Condition keys in lower case → value. */
export type RequestContext = Map<string, ContextValue>;

export interface TrustRequest {
  action: string;
  federatedPrincipal: string;
  context: RequestContext;
}

export type Decision = "allow" | "explicit-deny" | "implicit-deny";

type Matcher = (policyValue: string, actual: string) => boolean;

const BASE_OPERATORS: Record<string, { match: Matcher; negated: boolean }> = {
  stringequals: { match: (p, a) => p === a, negated: false },
  stringnotequals: { match: (p, a) => p === a, negated: true },
  stringequalsignorecase: { match: (p, a) => p.toLowerCase() === a.toLowerCase(), negated: false },
  stringnotequalsignorecase: { match: (p, a) => p.toLowerCase() === a.toLowerCase(), negated: true },
  stringlike: { match: (p, a) => globToRegExp(p).test(a), negated: false },
  stringnotlike: { match: (p, a) => globToRegExp(p).test(a), negated: true },
};

const STATEMENT_KEYS = new Set(["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]);

/** IAM wildcards: `*` any run of characters, `?` one character; everything else literal. */
export function globToRegExp(pattern: string): RegExp {
  const body = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${body}$`, "s");
}

interface CompiledCondition {
  key: string;
  values: string[];
  test: (actual: ContextValue) => boolean;
}

interface CompiledStatement {
  effect: "Allow" | "Deny";
  principals: string[];
  actions: RegExp[];
  conditions: CompiledCondition[];
}

function asArray(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function compileCondition(operator: string, key: string, values: string[]): CompiledCondition {
  let op = operator.toLowerCase();
  let setOp: "any" | "all" | undefined;
  if (op.startsWith("forallvalues:")) [setOp, op] = ["all", op.slice("forallvalues:".length)];
  else if (op.startsWith("foranyvalue:")) [setOp, op] = ["any", op.slice("foranyvalue:".length)];
  const ifExists = op.endsWith("ifexists");
  if (ifExists) op = op.slice(0, -"ifexists".length);

  if (op === "null") {
    const wantMissing = values.map((v) => v.toLowerCase() === "true");
    return { key, values, test: (actual) => wantMissing.includes(actual === undefined || (Array.isArray(actual) && actual.length === 0)) };
  }
  const base = BASE_OPERATORS[op];
  if (!base) throw new TypeError(`unsupported condition operator: ${operator}`);
  const anyPolicyValue = (a: string) => values.some((p) => base.match(p, a));

  return {
    key,
    values,
    test(actual) {
      const actuals = actual === undefined ? [] : Array.isArray(actual) ? actual : [actual];
      if (actuals.length === 0) {
        // A missing key never matches, except: IfExists and negated operators are then true, and
        // ForAllValues over an empty set is vacuously true (IAM "Condition operators").
        if (ifExists) return true;
        if (setOp === "all") return true;
        return base.negated && setOp === undefined;
      }
      if (setOp === "all") return actuals.every((a) => (base.negated ? !anyPolicyValue(a) : anyPolicyValue(a)));
      const hit = actuals.some((a) => anyPolicyValue(a));
      return base.negated ? !hit : hit;
    },
  };
}

function compileStatement(s: PolicyStatement, index: number): CompiledStatement {
  for (const k of Object.keys(s)) if (!STATEMENT_KEYS.has(k)) throw new TypeError(`statement ${index}: unsupported key ${k}`);
  if (s.Effect !== "Allow" && s.Effect !== "Deny") throw new TypeError(`statement ${index}: Effect must be Allow or Deny`);
  const principals = asArray(s.Principal?.Federated);
  if (principals.length === 0) throw new TypeError(`statement ${index}: a trust policy statement needs Principal.Federated`);
  const conditions: CompiledCondition[] = [];
  for (const [operator, block] of Object.entries(s.Condition ?? {})) {
    for (const [key, value] of Object.entries(block)) conditions.push(compileCondition(operator, key.toLowerCase(), asArray(value)));
  }
  return { effect: s.Effect, principals, actions: asArray(s.Action).map((a) => new RegExp(globToRegExp(a).source, "i")), conditions };
}

/** A trust policy compiled once; `evaluate` is pure. */
export interface CompiledTrustPolicy {
  evaluate(request: TrustRequest): Decision;
}

export function compileTrustPolicy(doc: PolicyDocument): CompiledTrustPolicy {
  if (doc.Version !== "2012-10-17") throw new TypeError(`policy Version must be 2012-10-17`);
  if (!Array.isArray(doc.Statement) || doc.Statement.length === 0) throw new TypeError("policy needs at least one Statement");
  const statements = doc.Statement.map(compileStatement);
  return {
    evaluate(request) {
      let allowed = false;
      for (const s of statements) {
        if (!s.principals.includes(request.federatedPrincipal)) continue;
        if (!s.actions.some((a) => a.test(request.action))) continue;
        if (!s.conditions.every((c) => c.test(request.context.get(c.key)))) continue;
        if (s.effect === "Deny") return "explicit-deny";
        allowed = true;
      }
      return allowed ? "allow" : "implicit-deny";
    },
  };
}
