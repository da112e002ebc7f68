/**
 * Authorization of one Bedrock call by a real IAM policy evaluator, `@cloud-copilot/iam-simulate`
 * (`runSimulation`, strict mode): the role's identity-based policies from the customer's accounts
 * fixture, the session policy passed at AssumeRoleWithWebIdentity, and the request context AWS
 * builds for a web-identity role session — `aws:PrincipalArn` (the role ARN), `aws:PrincipalTag/<k>`
 * (the session tags), `aws:SourceIdentity`, `aws:FederatedProvider`, `aws:userid`, and the
 * resource's keys (`aws:ResourceTag/<k>`, `bedrock:InferenceProfileArn`). `sts:SourceIdentity` is a
 * key of the STS request only; resource APIs see the source identity as `aws:SourceIdentity`
 * (IAM User Guide, "AWS global condition context keys").
 *
 * The denial message follows "Access denied error messages" of the IAM User Guide.
 */
import { runSimulation, type RequestAnalysis } from "@cloud-copilot/iam-simulate";
import type { CloudAccounts } from "../accounts/accounts.ts";
import type { IssuedSession } from "../sts/sessions.ts";
import type { AuthorizedResource } from "./models.ts";

export interface AuthorizationInput {
  session: IssuedSession;
  action: string;
  resources: readonly AuthorizedResource[];
  region: string;
  sourceIp: string;
  secureTransport: boolean;
  now: Date;
}

export type AuthorizationResult = { allowed: true } | { allowed: false; resource: string; message: string };

/** The request context AWS evaluates a call of this session with (resource keys excluded). */
export function sessionContext(input: AuthorizationInput): Record<string, string> {
  const s = input.session;
  const context: Record<string, string> = {
    "aws:PrincipalArn": s.roleArn,
    "aws:PrincipalAccount": s.account,
    "aws:PrincipalType": "AssumedRole",
    "aws:userid": s.assumedRoleId,
    "aws:FederatedProvider": s.provider,
    "aws:TokenIssueTime": s.issuedAt.toISOString(),
    "aws:RequestedRegion": input.region,
    "aws:SecureTransport": String(input.secureTransport),
    "aws:SourceIp": input.sourceIp,
    "aws:CurrentTime": input.now.toISOString(),
    "aws:EpochTime": String(Math.floor(input.now.getTime() / 1000)),
  };
  for (const [key, value] of Object.entries(s.tags)) context[`aws:PrincipalTag/${key}`] = value;
  if (s.sourceIdentity !== undefined) context["aws:SourceIdentity"] = s.sourceIdentity;
  return context;
}

function denialReason(action: string, analysis: RequestAnalysis): string {
  if (analysis.identityAnalysis?.result === "ExplicitlyDenied") return "with an explicit deny in an identity-based policy";
  if (analysis.sessionAnalysis?.result === "ExplicitlyDenied") return "with an explicit deny in a session policy";
  if (analysis.identityAnalysis?.result !== "Allowed") return `because no identity-based policy allows the ${action} action`;
  return `because no session policy allows the ${action} action`;
}

export async function authorize(input: AuthorizationInput, accounts: CloudAccounts): Promise<AuthorizationResult> {
  const role = accounts.aws.roles.find((r) => r.arn === input.session.roleArn);
  const identityPolicies = (role?.policies ?? []).map((p) => ({ name: p.name, policy: p.document }));
  const base = sessionContext(input);
  for (const resource of input.resources) {
    const result = await runSimulation(
      {
        request: {
          principal: input.session.assumedRoleArn,
          action: input.action,
          resource: { resource: resource.arn, accountId: resource.account ?? input.session.account },
          contextVariables: { ...base, ...resource.context },
        },
        identityPolicies,
        ...(input.session.sessionPolicy !== undefined && { sessionPolicy: JSON.parse(input.session.sessionPolicy) as unknown }),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      { simulationMode: "Strict" },
    );
    if (result.resultType === "error")
      throw new TypeError(`IAM policy evaluation failed for ${input.session.roleArn}: ${result.errors.message}`);
    if (result.resultType !== "single")
      throw new TypeError(`IAM policy evaluation of ${resource.arn} was not a single-resource evaluation`);
    if (result.overallResult !== "Allowed") {
      return {
        allowed: false,
        resource: resource.arn,
        message: `User: ${input.session.assumedRoleArn} is not authorized to perform: ${input.action} on resource: ${resource.arn} ${denialReason(input.action, result.result.analysis)}`,
      };
    }
  }
  return { allowed: true };
}
