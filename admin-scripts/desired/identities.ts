/**
 * realm-sync's own identities on a cluster: two confidential service-account clients in the master
 * realm, each holding only roles of the trust domain's realm-management client there
 * (`<realm>-realm`). `bootstrap-identities` creates them with the bootstrap admin; `apply` signs in
 * with the apply identity, `plan` and `check` with the view identity.
 *
 * The role sets were found on Keycloak 26.7.3 by taking away one role at a time until a command
 * failed; test/integration/realm-sync-identities.test.ts shows they suffice and reach nothing else.
 */
import type { ConfigPath } from "../../realm-config/model/path.ts";
import type { SecretRef, TrustDomain } from "../../realm-config/model/schema.ts";

export type IdentityKind = "apply" | "view";

/**
 * `plan` and `check` read the realm, its clients and identity providers, and the server info;
 * `check` has Keycloak generate each workload's example token for the workload's service-account
 * user, which Keycloak allows only to who may view that user (`view-users`; the trust domain's realm
 * holds no other users).
 */
export const VIEW_ROLES: readonly string[] = ["view-realm", "view-clients", "view-identity-providers", "view-users"];

/**
 * `apply` reads what `plan` reads and writes the realm's settings and key providers, its clients and
 * client scopes, and its identity providers; `manage-users` removes roles mapped by hand to a
 * workload's service account. Keycloak lets a caller remove an admin role of the realm
 * (`<realm>-realm`'s roles) from a user only when it holds that role itself, so the apply identity
 * holds the view roles too: a view role planted on a workload's service account is removed.
 * None of them reaches the master realm or another realm.
 */
export const APPLY_ROLES: readonly string[] = [
  ...VIEW_ROLES,
  "manage-realm",
  "manage-clients",
  "manage-identity-providers",
  "manage-users",
];

export const IDENTITY_ROLES: Readonly<Record<IdentityKind, readonly string[]>> = { view: VIEW_ROLES, apply: APPLY_ROLES };

/** Client attribute marking a master-realm client as one of realm-sync's identities: `<realm>/<kind>`. */
export const IDENTITY_ATTRIBUTE = "kcb.realm-sync-identity";

/** The realm-management client of a realm, in the master realm. */
export function managementClientId(realm: string): string {
  return `${realm}-realm`;
}

/** One identity to create on a cluster, as the config names it. */
export interface DesiredIdentity {
  kind: IdentityKind;
  clientId: string;
  clientSecret: SecretRef;
  /** Where the config names it, e.g. `clusters[0].auth.view` (for errors). */
  path: ConfigPath;
  /** The master-realm roles of `<realm>-realm` it must hold, exactly. */
  roles: readonly string[];
}

/** A problem with the config's identities, located. */
export interface IdentityProblem {
  path: ConfigPath;
  message: string;
}

/**
 * The identities the config names for one cluster, or the problems that keep bootstrap-identities
 * from creating them: `auth` must be `{ apply, view }` with a `clientId` identity each, two distinct
 * clientIds, neither the management client itself.
 */
export function desiredIdentities(
  config: TrustDomain,
  clusterIndex: number,
): { identities: DesiredIdentity[]; problems: IdentityProblem[] } {
  const cluster = config.clusters[clusterIndex]!;
  const base: ConfigPath = ["clusters", clusterIndex, "auth"];
  if (!("apply" in cluster.auth)) {
    return {
      identities: [],
      problems: [
        {
          path: base,
          message:
            "bootstrap-identities creates the identities this names: write it as { apply: { clientId, clientSecret }, view: { clientId, clientSecret } }",
        },
      ],
    };
  }
  const identities: DesiredIdentity[] = [];
  const problems: IdentityProblem[] = [];
  for (const kind of ["view", "apply"] as const) {
    const auth = cluster.auth[kind];
    const path = [...base, kind];
    if (!("clientId" in auth)) {
      problems.push({
        path,
        message: `a service-account client ({ clientId, clientSecret }) is what bootstrap-identities creates; a username identity is the bootstrap admin's`,
      });
      continue;
    }
    if (auth.clientId === managementClientId(config.realm) || auth.clientId === "master-realm") {
      problems.push({
        path: [...path, "clientId"],
        message: `${auth.clientId} is Keycloak's realm-management client; name realm-sync's own client`,
      });
      continue;
    }
    identities.push({ kind, clientId: auth.clientId, clientSecret: auth.clientSecret, path, roles: IDENTITY_ROLES[kind] });
  }
  if (identities.length === 2 && identities[0]!.clientId === identities[1]!.clientId) {
    problems.push({
      path: [...base, "apply", "clientId"],
      message: `the apply and view identities must be two clients (both are ${identities[0]!.clientId}): plan jobs must not hold the write identity`,
    });
  }
  return { identities: problems.length ? [] : identities, problems };
}
