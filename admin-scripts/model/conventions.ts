/**
 * How the trust domain appears inside Keycloak and on the wire. realm-sync creates it this way,
 * the broker requests tokens this way, the cloud emulators and the exported cloud trust expect it.
 */

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
