/**
 * The rules of a trust domain that a schema cannot express: uniqueness, references between parts,
 * and the limits AWS, Entra and Keycloak enforce, so a bad config fails here, in CI, with its path,
 * and never halfway through an apply or at a cloud's token endpoint.
 *
 * Pure: takes the parsed config (or what could be salvaged from a config with schema errors, so all
 * errors are reported together) and returns every issue with its path.
 */
import { AZURE_AUDIENCE } from "./conventions.ts";
import { error, warning, type PathIssue } from "./issues.ts";
import { formatPath, type ConfigPath } from "./path.ts";
import { podTagKeys } from "./pod-identity.ts";
import type { Agent, KubernetesIssuer, TrustDomain, Workload } from "./schema.ts";

type Cluster = TrustDomain["clusters"][number];
type SigningKey = TrustDomain["signingKeys"][number];

/**
 * A config as far as it parsed: array elements that failed the schema are `undefined` (their
 * indexes stay, so paths stay right), and so are top-level fields that failed.
 */
export interface TrustDomainView {
  realm: string | undefined;
  issuer: string | undefined;
  clusters: ReadonlyArray<Cluster | undefined>;
  signingKeys: ReadonlyArray<SigningKey | undefined>;
  kubernetesIssuers: ReadonlyArray<KubernetesIssuer | undefined>;
  workloads: ReadonlyArray<Workload | undefined>;
  agents: ReadonlyArray<Agent | undefined>;
  /** The same lists as written, for the rules that need only a name or subject (duplicates are found even in elements with other errors). */
  raw: Record<"clusters" | "signingKeys" | "kubernetesIssuers" | "workloads" | "agents", readonly unknown[]>;
}

/** A string field of a raw element, if it is one. */
function field(item: unknown, key: string): string | undefined {
  const v = typeof item === "object" && item !== null ? (item as Record<string, unknown>)[key] : undefined;
  return typeof v === "string" ? v : undefined;
}

/** At most this many federated identity credentials per app registration or user-assigned identity.
 * https://learn.microsoft.com/en-us/entra/workload-id/workload-identity-federation-considerations */
export const MAX_FEDERATED_CREDENTIALS = 20;
/** At most this many session tags per session. https://docs.aws.amazon.com/STS/latest/APIReference/API_Tag.html */
export const MAX_SESSION_TAGS = 50;
// `RoleSessionName` (2–64 of `[\w+=,.@-]`) needs no rule here: the broker derives it from names the
// schema already limits to `[a-z0-9-]` (`<client>@<target>`, `agentSessionName(agent, workload)`),
// shortening long ones with a hash. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html

/** IAM `RoleName` is 1–64 characters and unique per account whatever its path.
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html */
export const MAX_ROLE_NAME = 64;
/** Session policy plaintext limit. https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html */
export const MAX_SESSION_POLICY_CHARS = 2048;

type Issues = PathIssue[];

function present<T>(items: ReadonlyArray<T | undefined>): Array<[T, number]> {
  return items.flatMap((item, i) => (item === undefined ? [] : [[item, i] as [T, number]]));
}

/** Reports every later occurrence of a key already seen, naming where it was first seen. */
function checkUnique(items: readonly unknown[], key: string, path: (index: number) => ConfigPath, what: string, out: Issues): void {
  const seen = new Map<string, number>();
  for (const [i, item] of items.entries()) {
    const k = field(item, key);
    if (k === undefined) continue;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else out.push(error(path(i), `duplicate ${what} ${JSON.stringify(k)} (first at ${formatPath(path(first))})`));
  }
}

function checkIssuer(view: TrustDomainView, out: Issues): void {
  if (view.issuer === undefined) return;
  let url: URL;
  try {
    url = new URL(view.issuer);
  } catch {
    return; // the schema already reported it
  }
  const at = ["issuer"];
  if (url.protocol !== "https:") out.push(error(at, "must be an https:// URL (AWS and Entra only trust https issuers)"));
  if (url.search || url.hash || url.username || url.password) out.push(error(at, "must not have a query, fragment or credentials"));
  if (view.realm !== undefined && !view.issuer.endsWith(`/realms/${view.realm}`)) {
    out.push(error(at, `must end with /realms/${view.realm} (Keycloak's issuer for realm "${view.realm}", no trailing slash)`));
  }
  if (url.port) {
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
    out.push(warning(at, `has a port (${url.port}): AWS IAM rejects OIDC provider URLs with a port; fine only for the local emulators`));
  }
}

function checkClusters(view: TrustDomainView, out: Issues): void {
  const clusters = present(view.clusters);
  checkUnique(view.raw.clusters, "name", (i) => ["clusters", i, "name"], "cluster name", out);
  for (const [c, i] of clusters) {
    if (/\$\{/.test(c.adminUrl)) continue; // an unset variable, already reported
    let url: URL | undefined;
    try {
      url = new URL(c.adminUrl);
    } catch {
      out.push(error(["clusters", i, "adminUrl"], `must be an http(s) URL, got ${JSON.stringify(c.adminUrl)}`));
      continue;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") out.push(error(["clusters", i, "adminUrl"], "must be an http(s) URL"));
    else if (url.protocol === "http:" && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
      out.push(warning(["clusters", i, "adminUrl"], "plain http: admin credentials would cross the network unencrypted"));
    }
  }
}

function checkSigningKeys(view: TrustDomainView, out: Issues): void {
  const keys = present(view.signingKeys);
  checkUnique(view.raw.signingKeys, "name", (i) => ["signingKeys", i, "name"], "signing key name", out);
  const active = keys.filter(([k]) => k.status === "active");
  if (keys.length === view.signingKeys.length && active.length === 0) {
    out.push(error(["signingKeys"], "exactly one key must be active (it signs new tokens); none is"));
  }
  for (const [, i] of active.slice(1)) {
    out.push(
      error(
        ["signingKeys", i, "status"],
        `exactly one key must be active; signingKeys[${active[0]?.[1]}] already is (make the older one passive)`,
      ),
    );
  }
}

/** The declared Kubernetes issuers by issuer URL; reports duplicates and pod-tag rules. */
function checkKubernetesIssuers(view: TrustDomainView, out: Issues): Map<string, KubernetesIssuer> {
  checkUnique(view.raw.kubernetesIssuers, "issuer", (i) => ["kubernetesIssuers", i, "issuer"], "Kubernetes issuer", out);
  const byIssuer = new Map<string, KubernetesIssuer>();
  for (const [k, i] of present(view.kubernetesIssuers)) {
    byIssuer.set(k.issuer, k);
    const at = (...rest: Array<string | number>): ConfigPath => ["kubernetesIssuers", i, ...rest];
    const keys = podTagKeys(k);
    const lower = new Map<string, string>();
    for (const [value, key] of Object.entries(k.sessionTags)) {
      if (key === undefined) continue;
      const other = lower.get(key.toLowerCase());
      if (other !== undefined)
        out.push(error(at("sessionTags", value), `session tag keys are case-insensitive: "${key}" is already the key of ${other}`));
      else lower.set(key.toLowerCase(), value);
      if (key.toLowerCase().startsWith("aws:")) out.push(error(at("sessionTags", value), 'the "aws:" prefix is reserved for AWS'));
    }
    const seen = new Set<string>();
    k.transitiveTagKeys.forEach((key, t) => {
      if (seen.has(key)) out.push(error(at("transitiveTagKeys", t), `duplicate transitive tag key "${key}"`));
      seen.add(key);
      if (!keys.includes(key))
        out.push(
          error(at("transitiveTagKeys", t), `"${key}" is not one of this issuer's pod session tag keys (${keys.join(", ") || "none"})`),
        );
    });
  }
  return byIssuer;
}

/** The declared issuer a workload authenticates through, if it is a Kubernetes workload of one. */
function podIssuerOf(w: Workload, issuers: Map<string, KubernetesIssuer>): KubernetesIssuer | undefined {
  return "kubernetes" in w.authentication ? issuers.get(w.authentication.kubernetes.issuer) : undefined;
}

/** Pod tags and static tags share one claim and one session: no key twice, at most 50 in all; the namespace lock needs the namespace tag. */
function checkPodIdentity(w: Workload, i: number, issuers: Map<string, KubernetesIssuer>, out: Issues): void {
  const pod = podIssuerOf(w, issuers);
  const at = (...rest: Array<string | number>): ConfigPath => ["workloads", i, ...rest];
  if ("kubernetes" in w.authentication && !pod && issuers.size > 0) {
    out.push(
      warning(
        at("authentication", "kubernetes", "issuer"),
        "is not in kubernetesIssuers: this workload's tokens carry no pod identity (Keycloak's own kubernetes provider is used)",
      ),
    );
  }
  if (w.aws?.lockToNamespace) {
    if (!("kubernetes" in w.authentication))
      out.push(error(at("aws", "lockToNamespace"), "needs kubernetes authentication: only a pod has a namespace"));
    else if (!pod)
      out.push(
        error(
          at("aws", "lockToNamespace"),
          `needs the workload's issuer ${w.authentication.kubernetes.issuer} in kubernetesIssuers (the namespace tag comes from the Keycloak extension)`,
        ),
      );
    else if (pod.sessionTags.namespace === undefined)
      out.push(
        error(at("aws", "lockToNamespace"), `needs the namespace session tag, which kubernetesIssuers for ${pod.issuer} leaves out`),
      );
  }
  if (!pod || !w.aws) return;
  const podKeys = new Map(podTagKeys(pod).map((k) => [k.toLowerCase(), k]));
  for (const key of Object.keys(w.aws.sessionTags)) {
    const clash = podKeys.get(key.toLowerCase());
    if (clash !== undefined)
      out.push(
        error(
          at("aws", "sessionTags", key),
          `collides with the pod session tag "${clash}" of issuer ${pod.issuer} (keys are case-insensitive)`,
        ),
      );
  }
  const total = Object.keys(w.aws.sessionTags).length + podKeys.size;
  if (total > MAX_SESSION_TAGS)
    out.push(
      error(
        at("aws", "sessionTags"),
        `${total} session tags with the ${podKeys.size} pod tags of issuer ${pod.issuer}; AWS allows at most ${MAX_SESSION_TAGS}`,
      ),
    );
}

function checkSessionTags(w: Workload, i: number, out: Issues): void {
  const aws = w.aws;
  if (!aws) return;
  const at = (...rest: Array<string | number>): ConfigPath => ["workloads", i, "aws", ...rest];
  const keys = Object.keys(aws.sessionTags);
  if (keys.length > MAX_SESSION_TAGS)
    out.push(error(at("sessionTags"), `${keys.length} session tags; AWS allows at most ${MAX_SESSION_TAGS}`));
  // Tag keys are case-insensitive in IAM: `Team` and `team` collide. https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html
  const lower = new Map<string, string>();
  for (const key of keys) {
    const other = lower.get(key.toLowerCase());
    if (other !== undefined)
      out.push(error(at("sessionTags", key), `session tag keys are case-insensitive: "${key}" collides with "${other}"`));
    else lower.set(key.toLowerCase(), key);
    if (key.toLowerCase().startsWith("aws:")) out.push(error(at("sessionTags", key), 'the "aws:" prefix is reserved for AWS'));
  }
  const seen = new Set<string>();
  aws.transitiveTagKeys.forEach((key, k) => {
    if (seen.has(key)) out.push(error(at("transitiveTagKeys", k), `duplicate transitive tag key "${key}"`));
    seen.add(key);
    if (!(key in aws.sessionTags)) out.push(error(at("transitiveTagKeys", k), `"${key}" is not one of this workload's sessionTags`));
  });
}

interface RoleDecl {
  maxSessionDuration: number;
  path: ConfigPath;
  workloads: Set<string>;
  /** Workloads whose sessions of this role must come from their own namespace. */
  lockedBy: Set<string>;
}

function checkWorkloads(view: TrustDomainView, issuers: Map<string, KubernetesIssuer>, out: Issues): Map<string, RoleDecl> {
  const workloads = present(view.workloads);
  checkUnique(view.raw.workloads, "name", (i) => ["workloads", i, "name"], "workload name", out);
  checkUnique(view.raw.workloads, "subject", (i) => ["workloads", i, "subject"], "subject", out);

  const roles = new Map<string, RoleDecl>();
  const roleNames = new Map<string, { arn: string; path: ConfigPath }>();
  const identityNames: Array<[{ name: string }, number, number]> = [];
  const perApp = new Map<string, Array<{ path: ConfigPath }>>();

  for (const [w, i] of workloads) {
    checkSessionTags(w, i, out);
    checkPodIdentity(w, i, issuers, out);

    const ownRoles = new Set<string>();
    w.aws?.roles.forEach((role, r) => {
      const path: ConfigPath = ["workloads", i, "aws", "roles", r, "arn"];
      if (ownRoles.has(role.arn)) out.push(error(path, `role ${role.arn} is listed twice for this workload`));
      ownRoles.add(role.arn);
      const m = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(role.arn);
      if (m) {
        const [, partition, account, roleName = ""] = m;
        if (roleName.length > MAX_ROLE_NAME)
          out.push(error(path, `role name "${roleName}" has ${roleName.length} characters; IAM allows at most ${MAX_ROLE_NAME}`));
        const key = `${partition}:${account}:${roleName.toLowerCase()}`;
        const other = roleNames.get(key);
        if (other && other.arn !== role.arn)
          out.push(
            error(
              path,
              `role name "${roleName}" is already used by ${other.arn} (${formatPath(other.path)}); IAM role names are unique per account, whatever the path`,
            ),
          );
        else if (!other) roleNames.set(key, { arn: role.arn, path });
      }
      const decl = roles.get(role.arn);
      const locked = w.aws?.lockToNamespace ? [w.name] : [];
      if (!decl)
        roles.set(role.arn, { maxSessionDuration: role.maxSessionDuration, path, workloads: new Set([w.name]), lockedBy: new Set(locked) });
      else {
        decl.workloads.add(w.name);
        locked.forEach((name) => decl.lockedBy.add(name));
        if (decl.maxSessionDuration !== role.maxSessionDuration) {
          out.push(
            error(
              ["workloads", i, "aws", "roles", r, "maxSessionDuration"],
              `role ${role.arn} has maxSessionDuration ${decl.maxSessionDuration} at ${formatPath(decl.path)}; one role has one maximum`,
            ),
          );
        }
      }
    });

    const ownApps = new Set<string>();
    w.azure?.identities.forEach((id, a) => {
      const path: ConfigPath = ["workloads", i, "azure", "identities", a];
      identityNames.push([id, i, a]);
      const app = `${id.tenantId.toLowerCase()}/${id.clientId.toLowerCase()}`;
      if (ownApps.has(app))
        out.push(
          error(
            [...path, "clientId"],
            `this workload already has an identity for tenant ${id.tenantId} and client ${id.clientId} (one federated credential per issuer and subject)`,
          ),
        );
      else perApp.set(app, [...(perApp.get(app) ?? []), { path }]);
      ownApps.add(app);
      id.scopes.forEach((scope, s) => {
        // The client-credentials grant takes only `<resource>/.default`.
        // https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow
        if (!scope.endsWith("/.default"))
          out.push(
            error(
              [...path, "scopes", s],
              `"${scope}" must be a resource's /.default scope (client-credentials grant), e.g. https://storage.azure.com/.default`,
            ),
          );
      });
    });
  }

  const seenNames = new Map<string, ConfigPath>();
  for (const [id, i, a] of identityNames) {
    const path: ConfigPath = ["workloads", i, "azure", "identities", a, "name"];
    const first = seenNames.get(id.name);
    if (first)
      out.push(
        error(path, `duplicate Azure identity name "${id.name}" (first at ${formatPath(first)}); agents refer to identities by name`),
      );
    else seenNames.set(id.name, path);
  }
  for (const [app, uses] of perApp) {
    const over = uses[MAX_FEDERATED_CREDENTIALS];
    if (over) {
      out.push(
        error(
          over.path,
          `Azure identity ${app} would get ${uses.length} federated identity credentials (one per workload, audience ${AZURE_AUDIENCE}); Entra allows at most ${MAX_FEDERATED_CREDENTIALS} per application or user-assigned identity`,
        ),
      );
    }
  }
  return roles;
}

function checkAgents(view: TrustDomainView, roles: Map<string, RoleDecl>, out: Issues): void {
  const agents = present(view.agents);
  checkUnique(view.raw.agents, "name", (i) => ["agents", i, "name"], "agent name", out);
  const workloads = new Map(present(view.workloads).map(([w]) => [w.name, w]));
  const workloadNames = new Set(view.raw.workloads.map((w) => field(w, "name")));
  const complete = view.workloads.every((w) => w !== undefined);

  for (const [agent, i] of agents) {
    const at = (...rest: Array<string | number>): ConfigPath => ["agents", i, ...rest];
    const m = agent.match;
    if (
      m.issuer === undefined &&
      m.subject === undefined &&
      m.clientId === undefined &&
      (m.claims === undefined || Object.keys(m.claims).length === 0)
    ) {
      out.push(
        error(at("match"), "must name at least one of issuer, subject, clientId or claims (an empty match would match every token)"),
      );
    }

    const all = agent.actFor.includes("*");
    if (all && agent.actFor.length > 1) out.push(error(at("actFor"), '"*" already means every workload; list names or "*", not both'));
    agent.actFor.forEach((name, k) => {
      if (name !== "*" && !workloadNames.has(name)) out.push(error(at("actFor", k), `no workload named "${name}"`));
    });
    const inScope = all ? [...workloads.values()] : agent.actFor.flatMap((n) => workloads.get(n) ?? []);
    const scopeText = all ? "any workload" : `the workloads it acts for (${agent.actFor.join(", ")})`;

    agent.targets.forEach((target, t) => {
      if ("aws" in target) {
        const decl = roles.get(target.aws.role);
        const usable = inScope.some((w) => w.aws?.roles.some((r) => r.arn === target.aws.role));
        if (!usable && complete) out.push(error(at("targets", t, "aws", "role"), `role ${target.aws.role} is not a role of ${scopeText}`));
        const locked = inScope.filter((w) => decl?.lockedBy.has(w.name)).map((w) => w.name);
        if (locked.length) {
          out.push(
            error(
              at("targets", t, "aws", "role"),
              `role ${target.aws.role} is locked to the namespace of ${locked.join(", ")} (aws.lockToNamespace): an agent's delegated session carries no pod namespace, so STS would refuse it`,
            ),
          );
        }
        if (decl && target.aws.maxDuration !== undefined && target.aws.maxDuration > decl.maxSessionDuration) {
          out.push(
            error(
              at("targets", t, "aws", "maxDuration"),
              `${target.aws.maxDuration} exceeds the role's maxSessionDuration ${decl.maxSessionDuration} (${formatPath(decl.path)})`,
            ),
          );
        }
        const policy = target.aws.sessionPolicy === undefined ? 0 : JSON.stringify(target.aws.sessionPolicy).length;
        if (policy > MAX_SESSION_POLICY_CHARS)
          out.push(
            error(
              at("targets", t, "aws", "sessionPolicy"),
              `is ${policy} characters as JSON; STS allows at most ${MAX_SESSION_POLICY_CHARS}`,
            ),
          );
      } else {
        const identity = inScope.flatMap((w) => w.azure?.identities ?? []).find((id) => id.name === target.azure.identity);
        if (!identity) {
          if (complete)
            out.push(error(at("targets", t, "azure", "identity"), `no Azure identity "${target.azure.identity}" among ${scopeText}`));
          return;
        }
        target.azure.scopes?.forEach((scope, s) => {
          if (!identity.scopes.includes(scope))
            out.push(
              error(
                at("targets", t, "azure", "scopes", s),
                `"${scope}" is not one of identity "${identity.name}"'s scopes (${identity.scopes.join(", ")})`,
              ),
            );
        });
      }
    });
  }
}

/** Every semantic issue of a trust domain, errors and warnings, in document order of the rules. */
export function validateTrustDomain(view: TrustDomainView): PathIssue[] {
  const out: Issues = [];
  checkIssuer(view, out);
  checkClusters(view, out);
  checkSigningKeys(view, out);
  const issuers = checkKubernetesIssuers(view, out);
  const roles = checkWorkloads(view, issuers, out);
  checkAgents(view, roles, out);
  return out;
}
