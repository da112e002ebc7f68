/**
 * How the trust domain appears inside Keycloak and on the wire. realm-sync creates it this way,
 * the broker requests tokens this way, the cloud emulators and the exported cloud trust expect it.
 */
import { createHash } from "node:crypto";

/** `aud` of a workload token for AWS STS (the IAM OIDC provider's client-id list holds it). */
export const AWS_AUDIENCE = "sts.amazonaws.com";
/** `aud` of a workload token for Entra federated identity credentials. */
export const AZURE_AUDIENCE = "api://AzureADTokenExchange";
/** The claim AWS reads session tags from: `{ principal_tags: { K: [v] }, transitive_tag_keys: [K] }`. */
export const AWS_SESSION_TAGS_CLAIM = "https://aws.amazon.com/tags";

/**
 * Optional client scopes realm-sync creates in the realm; a workload asks for exactly one of them
 * in its client-credentials request (`scope=kcb-aws` or `scope=kcb-azure`) and gets a token whose
 * `aud` is exactly that cloud's audience.
 */
export const AWS_SCOPE = "kcb-aws";
export const AZURE_SCOPE = "kcb-azure";

/** Attribute realm-sync sets on everything it manages (clients, scopes, key components); it never touches anything without it. */
export const MANAGED_ATTRIBUTE = "kcb.managed-by";
export const MANAGED_VALUE = "realm-sync";

/** A workload's Keycloak client id is its name. */
export function workloadClientId(workloadName: string): string {
  return workloadName;
}

/**
 * Delegation for agents (RFC 8693 endpoint of the broker, `broker/agents/`).
 *
 * Subject and actor tokens presented to the broker's `POST /v1/token` carry this audience: a
 * workload asks for `scope=kcb-agents` when it mints the token it hands to an agent, an agent when it
 * mints its actor token. Such tokens are useless at AWS and Entra (wrong `aud`).
 */
export const AGENTS_AUDIENCE = "kcb-agents";
export const AGENTS_SCOPE = "kcb-agents";
/**
 * The claim AWS `AssumeRoleWithWebIdentity` reads the session's SourceIdentity from (the API has no
 * SourceIdentity parameter). Needs `sts:SetSourceIdentity` in the role's trust policy.
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_monitor.html
 */
export const AWS_SOURCE_IDENTITY_CLAIM = "https://aws.amazon.com/source_identity";

/**
 * The Keycloak client that mints the cloud-facing tokens of agent `agent` acting for workload
 * `workload`: its tokens have the workload's `sub` and carry {@link agentSessionName} in
 * {@link AWS_SOURCE_IDENTITY_CLAIM}. Names are `[a-z0-9-]`, so the dots keep it unambiguous.
 */
export function delegationClientId(agent: string, workload: string): string {
  return `kcb-delegation.${agent}.${workload}`;
}

/**
 * `agent@workload`, the chain as AWS records it: the RoleSessionName of the agent's session and its
 * SourceIdentity. Both allow 2–64 characters of `[\w+=,.@-]`; longer chains keep their first 55
 * characters and end in `-` plus 8 hex digits of the SHA-256 of the whole chain (deterministic).
 */
export function agentSessionName(agent: string, workload: string): string {
  const chain = `${agent}@${workload}`;
  if (chain.length <= 64) return chain;
  return `${chain.slice(0, 55)}-${createHash("sha256").update(chain).digest("hex").slice(0, 8)}`;
}

/**
 * The Keycloak extension (deploy/keycloak/extension/README.md): its identity provider for
 * Kubernetes service-account assertions with per-pod identity, and its protocol mapper. Both report
 * the extension's version, which is the version of this repository's package.json.
 */
export const POD_IDENTITY_PROVIDER_ID = "kubernetes-pod";
export const POD_IDENTITY_MAPPER_ID = "oidc-kubernetes-pod-mapper";
/** Keycloak's own provider for Kubernetes service-account assertions, without pod identity. */
export const KUBERNETES_PROVIDER_ID = "kubernetes";
