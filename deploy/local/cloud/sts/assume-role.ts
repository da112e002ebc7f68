/**
 * AssumeRoleWithWebIdentity as one straight line: parameters → role ARN → session policy → token →
 * role → duration → tags and source identity → trust policy (AssumeRoleWithWebIdentity, then
 * sts:TagSession when the token carries tags, sts:SetSourceIdentity when it carries a source
 * identity) → packed size → issue. Every rejection is an `StsError` with the code STS would send.
 */
import { deflateRawSync } from "node:zlib";
import type { IssuerKeys } from "../common/issuer-keys.ts";
import { sha256Prefix } from "../common/ids.ts";
import type { Clock } from "../common/types.ts";
import { StsError } from "./errors.ts";
import { parseAssumeRoleWithWebIdentity } from "./params.ts";
import type { IssuedSession, SessionStore } from "./sessions.ts";
import { parseSessionTags, parseSourceIdentity } from "./session-tags.ts";
import type { RequestContext } from "./trust-policy.ts";
import { parseRoleArn, type TrustStore } from "./trust-store.ts";
import { validateWebIdentityToken } from "./web-identity.ts";

export interface AssumeRoleDeps {
  trust: TrustStore;
  keys: IssuerKeys;
  sessions: SessionStore;
  clock: Clock;
  clockToleranceSec?: number;
}

const POLICY_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::(?:\d{12}|aws):policy\/[\x21-\x7e]+$/;
/**
 * Stand-in for STS's undocumented packed-policy limit: the session policy, policy ARNs and tags are
 * deflated together and compared with this budget; `PackedPolicySize` is the percentage used.
 */
const PACKED_BUDGET_BYTES = 1024;

function checkSessionPolicy(policy: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(policy);
  } catch {
    throw new StsError("MalformedPolicyDocument", "The policy is not in the valid JSON format.");
  }
  const d = doc as { Version?: unknown; Statement?: unknown };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc))
    throw new StsError("MalformedPolicyDocument", "The policy must be a JSON object.");
  if (d.Version !== undefined && d.Version !== "2012-10-17" && d.Version !== "2008-10-17")
    throw new StsError("MalformedPolicyDocument", "The policy Version is not supported.");
  const statements = Array.isArray(d.Statement) ? (d.Statement as unknown[]) : d.Statement === undefined ? [] : [d.Statement];
  if (statements.length === 0) throw new StsError("MalformedPolicyDocument", "Syntax errors in policy: the policy has no Statement.");
  for (const s of statements) {
    const st = s as { Effect?: unknown; Action?: unknown; NotAction?: unknown };
    if (
      typeof s !== "object" ||
      s === null ||
      (st.Effect !== "Allow" && st.Effect !== "Deny") ||
      (st.Action === undefined && st.NotAction === undefined)
    ) {
      throw new StsError(
        "MalformedPolicyDocument",
        "Syntax errors in policy: each Statement needs an Effect of Allow or Deny and an Action.",
      );
    }
  }
}

function packedPolicySize(policy: string | undefined, policyArns: string[], tags: Record<string, string>): number | undefined {
  if (policy === undefined && policyArns.length === 0 && Object.keys(tags).length === 0) return undefined;
  const packed = deflateRawSync(Buffer.from(JSON.stringify([policy ?? "", policyArns, tags])));
  return Math.ceil((packed.length * 100) / PACKED_BUDGET_BYTES);
}

export async function assumeRoleWithWebIdentity(query: URLSearchParams, deps: AssumeRoleDeps): Promise<IssuedSession> {
  const params = parseAssumeRoleWithWebIdentity(query);
  const arn = parseRoleArn(params.roleArn);
  if (!arn) throw new StsError("ValidationError", "Request ARN is invalid");
  if (params.policy !== undefined) checkSessionPolicy(params.policy);
  for (const p of params.policyArns)
    if (!POLICY_ARN.test(p)) throw new StsError("ValidationError", `Invalid ARN for the managed session policy: ${p}`);

  const now = deps.clock();
  const token = await validateWebIdentityToken(params.webIdentityToken, {
    findProvider: (issuer) => deps.trust.provider(arn.account, issuer),
    keys: deps.keys,
    nowSeconds: Math.floor(now / 1000),
    clockToleranceSec: deps.clockToleranceSec,
  });

  const role = deps.trust.role(params.roleArn);
  if (!role) throw new StsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
  const duration = params.durationSeconds ?? 3600;
  if (duration > role.maxSessionDuration) {
    throw new StsError("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.");
  }
  const tags = parseSessionTags(token.payload);
  const sourceIdentity = parseSourceIdentity(token.payload);

  const prefix = token.provider.conditionPrefix.toLowerCase();
  const context: RequestContext = new Map<string, string | string[] | undefined>([
    [`${prefix}:aud`, token.audience],
    [`${prefix}:sub`, token.subject],
    ["sts:rolesessionname", params.roleSessionName],
    ["sts:sourceidentity", sourceIdentity],
    ["aws:tagkeys", tags ? Object.keys(tags.tags) : undefined],
    ["sts:transitivetagkeys", tags?.transitiveTagKeys],
  ]);
  for (const [k, v] of Object.entries(tags?.tags ?? {})) context.set(`aws:requesttag/${k.toLowerCase()}`, v);
  const allowed = (action: string) => role.trust.evaluate({ action, federatedPrincipal: token.provider.arn, context }) === "allow";

  if (!allowed("sts:AssumeRoleWithWebIdentity"))
    throw new StsError("AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity");
  if (tags && !allowed("sts:TagSession")) throw new StsError("AccessDenied", "Not authorized to perform sts:TagSession");
  if (sourceIdentity !== undefined && !allowed("sts:SetSourceIdentity"))
    throw new StsError("AccessDenied", "Not authorized to perform sts:SetSourceIdentity");

  const packed = packedPolicySize(params.policy, params.policyArns, tags?.tags ?? {});
  if (packed !== undefined && packed > 100) {
    throw new StsError(
      "PackedPolicyTooLarge",
      `Packed size of the session policies and session tags consumes ${packed}% of the allotted space; reduce them.`,
    );
  }

  return deps.sessions.issue({
    issuedAt: new Date(now),
    expiration: new Date(Math.floor(now / 1000) * 1000 + duration * 1000),
    roleArn: role.arn,
    account: role.account,
    roleName: role.name,
    sessionName: params.roleSessionName,
    subject: token.subject,
    audience: token.audience,
    provider: token.provider.arn,
    issuer: token.provider.url,
    sessionPolicy: params.policy,
    policyArns: params.policyArns,
    tags: tags?.tags ?? {},
    transitiveTagKeys: tags?.transitiveTagKeys ?? [],
    sourceIdentity,
    packedPolicySize: packed,
    tokenSha256: sha256Prefix(params.webIdentityToken),
  });
}
