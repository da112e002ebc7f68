/**
 * What bootstrap-identities must do to one of realm-sync's identities on a cluster: the desired
 * identity vs the master-realm client found there (pure). The identity ends up holding exactly its
 * roles of `<realm>-realm`; any other role it was given (Keycloak's `admin`, `create-realm`, roles
 * of other realms) is revoked.
 */
import { IDENTITY_ATTRIBUTE, managementClientId, type DesiredIdentity } from "../desired/identities.ts";

/** The client fields every identity has: a confidential client with a service account and no user-facing flow. */
export const IDENTITY_CLIENT_FIELDS = {
  enabled: true,
  protocol: "openid-connect",
  publicClient: false,
  bearerOnly: false,
  serviceAccountsEnabled: true,
  standardFlowEnabled: false,
  implicitFlowEnabled: false,
  directAccessGrantsEnabled: false,
  clientAuthenticatorType: "client-secret",
} as const;

/** The only realm role a service account keeps: the master realm's default roles (no admin role in it). */
export const DEFAULT_ROLES = "default-roles-master";

/** The identity's client in the master realm as read, with its service account's role mappings. */
export interface LiveIdentity {
  client: Record<string, unknown> & { attributes?: Record<string, string> };
  /** Whether the client's secret equals the one the config names (compared by the reader; never carried here). */
  secretMatches: boolean;
  /** Realm roles of the master realm mapped to the service account. */
  realmRoles: string[];
  /** Client roles mapped to the service account, by clientId. */
  clientRoles: Record<string, string[]>;
}

export type IdentityStep =
  | { op: "create" }
  | { op: "update-client"; fields: string[] }
  | { op: "set-secret" }
  | { op: "grant"; client: string; roles: string[] }
  | { op: "revoke"; client: string; roles: string[] }
  | { op: "revoke-realm-roles"; roles: string[] };

/** The marker value of an identity: `<realm>/<kind>`. */
export function identityMarker(realm: string, identity: Pick<DesiredIdentity, "kind">): string {
  return `${realm}/${identity.kind}`;
}

/** Why an existing client cannot be taken over, or undefined when it is this identity. */
export function refusal(realm: string, identity: DesiredIdentity, live: LiveIdentity): string | undefined {
  const marker = live.client.attributes?.[IDENTITY_ATTRIBUTE];
  if (marker === identityMarker(realm, identity)) return undefined;
  if (marker === undefined)
    return `client ${identity.clientId} exists in the master realm and was not created by bootstrap-identities; delete it or name another clientId`;
  return `client ${identity.clientId} is realm-sync's ${marker.split("/")[1] ?? "?"} identity of realm ${marker.split("/")[0] ?? "?"}; name another clientId`;
}

/**
 * The steps that make the live client this identity, in order (empty when it already is). With no
 * live client: create it, then grant its roles.
 */
export function identitySteps(realm: string, identity: DesiredIdentity, live: LiveIdentity | undefined): IdentityStep[] {
  const management = managementClientId(realm);
  if (!live) return [{ op: "create" }, { op: "grant", client: management, roles: [...identity.roles] }];
  const steps: IdentityStep[] = [];
  const fields = Object.entries(IDENTITY_CLIENT_FIELDS)
    .filter(([key, value]) => live.client[key] !== value)
    .map(([key]) => key);
  if (fields.length) steps.push({ op: "update-client", fields });
  if (!live.secretMatches) steps.push({ op: "set-secret" });
  const held = live.clientRoles[management] ?? [];
  const missing = identity.roles.filter((r) => !held.includes(r));
  if (missing.length) steps.push({ op: "grant", client: management, roles: missing });
  for (const [client, roles] of Object.entries(live.clientRoles).sort(([a], [b]) => a.localeCompare(b))) {
    const extra = client === management ? roles.filter((r) => !identity.roles.includes(r)) : roles;
    if (extra.length) steps.push({ op: "revoke", client, roles: [...extra].sort() });
  }
  const extraRealm = live.realmRoles.filter((r) => r !== DEFAULT_ROLES);
  if (extraRealm.length) steps.push({ op: "revoke-realm-roles", roles: [...extraRealm].sort() });
  return steps;
}

/** One line per identity for the operator; names roles and fields, never the secret. */
export function describeSteps(steps: IdentityStep[]): string {
  if (!steps.length) return "in place, nothing to change";
  return steps
    .map((s) => {
      switch (s.op) {
        case "create":
          return "created";
        case "update-client":
          return `client settings reset (${s.fields.join(", ")})`;
        case "set-secret":
          return "secret set to the configured one";
        case "grant":
          return `granted ${s.client}: ${s.roles.join(", ")}`;
        case "revoke":
          return `revoked ${s.client}: ${s.roles.join(", ")}`;
        case "revoke-realm-roles":
          return `revoked realm roles: ${s.roles.join(", ")}`;
      }
    })
    .join("; ");
}
