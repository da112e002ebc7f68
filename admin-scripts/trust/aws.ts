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
import { agentSessionName, AWS_AUDIENCE } from "../../realm-config/model/conventions.ts";
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
  /** Workload subject → the source identities (`agent@workload`) of the agents that may use this role for it, and the workload's namespace lock. */
  delegations: Map<string, { chains: Set<string>; lock: [string, string] | undefined }>;
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
      const use: RoleUse = uses.get(role.arn) ?? {
        arn: role.arn,
        maxSessionDuration: role.maxSessionDuration,
        subjects: new Set(),
        locked: new Map(),
        delegations: new Map(),
      };
      uses.set(role.arn, use);
      if (!lock) {
        use.subjects.add(w.subject);
        continue;
      }
      const key = `${lock.tagKey}\n${lock.namespace}`;
      use.locked.set(key, (use.locked.get(key) ?? new Set<string>()).add(w.subject));
    }
  }
  // An agent's session carries `agent@workload` as its source identity: exactly those values, for
  // exactly the workloads the agent acts for that hold the role.
  for (const agent of config.agents) {
    const actFor = (name: string) => agent.actFor.includes("*") || agent.actFor.includes(name);
    for (const target of agent.targets) {
      if (!("aws" in target)) continue;
      const use = uses.get(target.aws.role);
      if (!use) continue;
      for (const w of config.workloads) {
        if (!actFor(w.name) || !w.aws?.roles.some((r) => r.arn === target.aws.role)) continue;
        const lock = namespaceLock(config, w);
        const entry = use.delegations.get(w.subject) ?? {
          chains: new Set<string>(),
          lock: lock ? [lock.tagKey, lock.namespace] : undefined,
        };
        entry.chains.add(agentSessionName(agent.name, w.name));
        use.delegations.set(w.subject, entry);
      }
    }
  }
  return uses;
}

const oneOrMany = (values: Set<string>): string | string[] => {
  const list = [...values].sort(byString);
  return list.length === 1 ? (list[0] ?? "") : list;
};

/**
 * The role's trust policy. A plain workload session must not carry a source identity
 * (`Null: sts:SourceIdentity`), so a workload's token can never pose as an agent's; a delegated
 * session must carry one of the declared `agent@workload` values for that workload's `sub`, and
 * only then may it set it (`sts:SetSourceIdentity`).
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceidentity
 */
function roleDocument(use: RoleUse, issuer: string): AwsRole {
  const arn = parseRoleArn(use.arn);
  const hostPath = providerHostPath(issuer);
  const principal = { Federated: providerArn(arn.partition, arn.account, issuer) };
  const requestTag = (tag?: [string, string]) => (tag ? { [`aws:RequestTag/${tag[0]}`]: tag[1] } : {});
  const plain = (subjects: Set<string>, tag?: [string, string]): PolicyStatement => ({
    Effect: "Allow",
    Principal: principal,
    Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
    Condition: {
      StringEquals: { [`${hostPath}:aud`]: AWS_AUDIENCE, [`${hostPath}:sub`]: oneOrMany(subjects), ...requestTag(tag) },
      Null: { "sts:SourceIdentity": "true" },
    },
  });
  const delegated = ([subject, { chains, lock }]: [
    string,
    { chains: Set<string>; lock: [string, string] | undefined },
  ]): PolicyStatement => ({
    Effect: "Allow",
    Principal: principal,
    Action: ["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity", "sts:TagSession"],
    Condition: {
      StringEquals: {
        [`${hostPath}:aud`]: AWS_AUDIENCE,
        [`${hostPath}:sub`]: subject,
        "sts:SourceIdentity": oneOrMany(chains),
        ...requestTag(lock),
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
        ...(use.subjects.size ? [plain(use.subjects)] : []),
        ...locked.map(([key, subjects]) => plain(subjects, key.split("\n") as [string, string])),
        ...[...use.delegations.entries()].sort(([a], [b]) => byString(a, b)).map(delegated),
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
