/**
 * The AWS side of the trust: one IAM OIDC provider per account (URL = the issuer, client id
 * `sts.amazonaws.com`) and, per role, a trust policy that lets exactly the configured workload
 * subjects assume it with a token of this issuer.
 *
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-idp_oidc.html
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html (sts:TagSession)
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html (sts:SetSourceIdentity)
 *
 * A workload with `aws.lockToNamespace` gets its own statement that also conditions
 * `aws:RequestTag/<namespace tag>` on its service account's namespace: the tag the Keycloak
 * extension sets from the validated pod assertion, so only a pod of that namespace gets a session.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-requesttag
 */
import { AWS_AUDIENCE } from "../../realm-config/model/conventions.ts";
import { serviceAccountNamespace } from "../../realm-config/model/pod-identity.ts";
import type { TrustDomain, Workload } from "../../realm-config/model/schema.ts";
import type { AwsOidcProvider, AwsRole, PolicyStatement } from "./artifacts.ts";
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
  /** Subjects trusted from anywhere. */
  subjects: Set<string>;
  /** `<tag key>\n<namespace>` → subjects trusted only with that request tag. */
  locked: Map<string, Set<string>>;
  sourceIdentity: boolean;
}

/** The namespace tag a locked workload's sessions must carry, or undefined when it is not locked (validation guarantees the rest). */
function namespaceLock(config: TrustDomain, w: Workload): { tagKey: string; namespace: string } | undefined {
  if (!w.aws?.lockToNamespace || !("kubernetes" in w.authentication)) return undefined;
  const { issuer, serviceAccount } = w.authentication.kubernetes;
  const tagKey = config.kubernetesIssuers.find((k) => k.issuer === issuer)?.sessionTags.namespace;
  return tagKey === undefined ? undefined : { tagKey, namespace: serviceAccountNamespace(serviceAccount) };
}

function roleUses(config: TrustDomain): Map<string, RoleUse> {
  const uses = new Map<string, RoleUse>();
  for (const w of config.workloads) {
    const lock = namespaceLock(config, w);
    for (const role of w.aws?.roles ?? []) {
      const use: RoleUse = uses.get(role.arn) ?? { arn: role.arn, maxSessionDuration: role.maxSessionDuration, subjects: new Set(), locked: new Map(), sourceIdentity: false };
      uses.set(role.arn, use);
      if (!lock) {
        use.subjects.add(w.subject);
        continue;
      }
      const key = `${lock.tagKey}\n${lock.namespace}`;
      use.locked.set(key, (use.locked.get(key) ?? new Set<string>()).add(w.subject));
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

const oneOrMany = (values: Set<string>): string | string[] => {
  const list = [...values].sort(byString);
  return list.length === 1 ? (list[0] ?? "") : list;
};

function roleDocument(use: RoleUse, issuer: string): AwsRole {
  const arn = parseRoleArn(use.arn);
  const hostPath = providerHostPath(issuer);
  const actions = ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", ...(use.sourceIdentity ? ["sts:SetSourceIdentity"] : [])].sort(byString);
  const statement = (subjects: Set<string>, requestTag?: [string, string]): PolicyStatement => ({
    Effect: "Allow",
    Principal: { Federated: providerArn(arn.partition, arn.account, issuer) },
    Action: actions,
    Condition: {
      StringEquals: {
        [`${hostPath}:aud`]: AWS_AUDIENCE,
        [`${hostPath}:sub`]: oneOrMany(subjects),
        ...(requestTag ? { [`aws:RequestTag/${requestTag[0]}`]: requestTag[1] } : {}),
      },
    },
  });
  const locked = [...use.locked.entries()].sort(([a], [b]) => byString(a, b));
  return {
    Arn: use.arn,
    RoleName: arn.name,
    Path: arn.path,
    MaxSessionDuration: use.maxSessionDuration,
    AssumeRolePolicyDocument: {
      Version: "2012-10-17",
      Statement: [
        ...(use.subjects.size ? [statement(use.subjects)] : []),
        ...locked.map(([key, subjects]) => statement(subjects, key.split("\n") as [string, string])),
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
