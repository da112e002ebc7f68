/**
 * The AWS side of the trust: one IAM OIDC provider per account (URL = the issuer, client id
 * `sts.amazonaws.com`) and, per role, a trust policy that lets exactly the configured workload
 * subjects assume it with a token of this issuer.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html (sts:TagSession)
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html (sts:SetSourceIdentity)
 */
import { AWS_AUDIENCE } from "../../realm-config/model/conventions.ts";
import type { TrustDomain } from "../../realm-config/model/schema.ts";
import type { AwsOidcProvider, AwsRole } from "./artifacts.ts";
import { byString } from "./canonical-json.ts";

export interface ParsedRoleArn {
  partition: string;
  account: string;
  /** `/` or `/a/b/`. */
  path: string;
  name: string;
}

/** Splits `arn:<partition>:iam::<account>:role/<path/>name`. The schema has checked the syntax. */
export function parseRoleArn(arn: string): ParsedRoleArn {
  const m = /^arn:([^:]+):iam::(\d{12}):role\/(.+)$/.exec(arn);
  if (!m) throw new TypeError(`not an IAM role ARN: ${arn}`);
  const [, partition = "", account = "", rest = ""] = m;
  const slash = rest.lastIndexOf("/");
  return { partition, account, path: slash < 0 ? "/" : `/${rest.slice(0, slash + 1)}`, name: rest.slice(slash + 1) };
}

/** The issuer as IAM names its provider: without `https://` (and with the port, if any). */
export function providerHostPath(issuer: string): string {
  return issuer.replace(/^https:\/\//, "").replace(/\/$/, "");
}

export function providerArn(partition: string, account: string, issuer: string): string {
  return `arn:${partition}:iam::${account}:oidc-provider/${providerHostPath(issuer)}`;
}

interface RoleUse {
  arn: string;
  maxSessionDuration: number;
  subjects: Set<string>;
  sourceIdentity: boolean;
}

function roleUses(config: TrustDomain): Map<string, RoleUse> {
  const uses = new Map<string, RoleUse>();
  for (const w of config.workloads) {
    for (const role of w.aws?.roles ?? []) {
      const use = uses.get(role.arn) ?? { arn: role.arn, maxSessionDuration: role.maxSessionDuration, subjects: new Set(), sourceIdentity: false };
      use.subjects.add(w.subject);
      uses.set(role.arn, use);
    }
  }
  // Agents' sessions carry a source identity naming the agent, so the role must allow setting it.
  for (const agent of config.agents) {
    for (const target of agent.targets) {
      if ("aws" in target) {
        const use = uses.get(target.aws.role);
        if (use) use.sourceIdentity = true;
      }
    }
  }
  return uses;
}

function roleDocument(use: RoleUse, issuer: string): AwsRole {
  const arn = parseRoleArn(use.arn);
  const hostPath = providerHostPath(issuer);
  const subjects = [...use.subjects].sort(byString);
  const actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", ...(use.sourceIdentity ? ["sts:SetSourceIdentity"] : [])].sort(byString);
  return {
    Arn: use.arn,
    RoleName: arn.name,
    Path: arn.path,
    MaxSessionDuration: use.maxSessionDuration,
    AssumeRolePolicyDocument: {
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: providerArn(arn.partition, arn.account, issuer) },
          Action: actions,
          Condition: {
            StringEquals: {
              [`${hostPath}:aud`]: AWS_AUDIENCE,
              [`${hostPath}:sub`]: subjects.length === 1 ? (subjects[0] ?? "") : subjects,
            },
          },
        },
      ],
    },
  };
}

/** Every IAM OIDC provider and role document of the trust domain, sorted by ARN. */
export function awsTrust(config: TrustDomain): { oidcProviders: AwsOidcProvider[]; roles: AwsRole[] } {
  const uses = roleUses(config);
  const roles = [...uses.values()].map((u) => roleDocument(u, config.issuer)).sort((a, b) => byString(a.Arn, b.Arn));
  const providers = new Map<string, AwsOidcProvider>();
  for (const role of roles) {
    const { partition, account } = parseRoleArn(role.Arn);
    const arn = providerArn(partition, account, config.issuer);
    providers.set(arn, { Arn: arn, Url: config.issuer, ClientIDList: [AWS_AUDIENCE], ThumbprintList: [] });
  }
  return { oidcProviders: [...providers.values()].sort((a, b) => byString(a.Arn, b.Arn)), roles };
}
