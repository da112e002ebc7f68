/**
 * realm-sync's own identities in a cluster's master realm, read and written with the bootstrap
 * admin's session (bootstrap-identities is the only caller). Errors name the cluster and client,
 * never the secret.
 */
import { IDENTITY_ATTRIBUTE, managementClientId, type DesiredIdentity } from "../desired/identities.ts";
import { IDENTITY_CLIENT_FIELDS, identityMarker, type IdentityStep, type LiveIdentity } from "../diff/identities.ts";
import { RealmSyncError } from "../errors.ts";
import { clusterError } from "./errors.ts";
import type { ClusterSession } from "./session.ts";

const MASTER = "master";

async function call<T>(session: ClusterSession, doing: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (error) {
    throw clusterError(session.name, doing, error, "APPLY_FAILED");
  }
}

async function clientByClientId(session: ClusterSession, clientId: string) {
  const [client] = await call(session, `reading master-realm client ${clientId}`, () =>
    session.admin.clients.find({ realm: MASTER, clientId }),
  );
  return client?.id ? { ...client, id: client.id } : undefined;
}

async function serviceAccountId(session: ClusterSession, clientUuid: string, clientId: string): Promise<string> {
  const user = await call(session, `reading the service account of ${clientId}`, () =>
    session.admin.clients.getServiceAccountUser({ realm: MASTER, id: clientUuid }),
  );
  if (!user.id)
    throw new RealmSyncError("APPLY_FAILED", `cluster ${session.name}: client ${clientId} has no service account`, {
      cluster: session.name,
    });
  return user.id;
}

/** The identity's client as it is on the cluster, or undefined when there is none. */
export async function readIdentity(session: ClusterSession, identity: DesiredIdentity, secret: string): Promise<LiveIdentity | undefined> {
  const client = await clientByClientId(session, identity.clientId);
  if (!client) return undefined;
  const current = await call(session, `reading the secret of ${identity.clientId}`, () =>
    session.admin.clients.getClientSecret({ realm: MASTER, id: client.id }),
  );
  const roleMappings = client.serviceAccountsEnabled
    ? await call(session, `reading the roles of ${identity.clientId}`, async () =>
        session.admin.users.listRoleMappings({ realm: MASTER, id: await serviceAccountId(session, client.id, identity.clientId) }),
      )
    : {};
  const clientRoles: Record<string, string[]> = {};
  for (const [clientId, mapping] of Object.entries(
    (roleMappings.clientMappings ?? {}) as Record<string, { mappings?: Array<{ name?: string }> }>,
  )) {
    clientRoles[clientId] = (mapping.mappings ?? []).map((r) => r.name ?? "");
  }
  return {
    client: client,
    secretMatches: current.value === secret,
    realmRoles: (roleMappings.realmMappings ?? []).map((r) => r.name ?? ""),
    clientRoles,
  };
}

async function roleReps(session: ClusterSession, clientId: string, names: readonly string[]) {
  const client = await clientByClientId(session, clientId);
  if (!client)
    throw new RealmSyncError("APPLY_FAILED", `cluster ${session.name}: the master realm has no client ${clientId}`, {
      cluster: session.name,
    });
  const all = await call(session, `reading the roles of ${clientId}`, () =>
    session.admin.clients.listRoles({ realm: MASTER, id: client.id }),
  );
  const missing = names.filter((n) => !all.some((r) => r.name === n));
  if (missing.length)
    throw new RealmSyncError("APPLY_FAILED", `cluster ${session.name}: client ${clientId} has no role ${missing.join(", ")}`, {
      cluster: session.name,
    });
  return { uuid: client.id, roles: all.filter((r) => names.includes(r.name ?? "")).map((r) => ({ id: r.id!, name: r.name! })) };
}

/** Carries out the steps of {@link identitySteps} for one identity. */
export async function writeIdentity(
  session: ClusterSession,
  realm: string,
  identity: DesiredIdentity,
  secret: string,
  steps: IdentityStep[],
): Promise<void> {
  const attributes = { [IDENTITY_ATTRIBUTE]: identityMarker(realm, identity) };
  const description = `realm-sync's ${identity.kind} identity for realm ${realm} (roles of ${managementClientId(realm)}: made by realm-sync bootstrap-identities)`;
  let uuid = (await clientByClientId(session, identity.clientId))?.id;
  for (const step of steps) {
    const what = `${step.op} ${identity.kind} identity ${identity.clientId}`;
    if (step.op === "create") {
      await call(session, what, () =>
        session.admin.clients.create({
          realm: MASTER,
          clientId: identity.clientId,
          description,
          ...IDENTITY_CLIENT_FIELDS,
          secret,
          attributes,
        }),
      );
      uuid = (await clientByClientId(session, identity.clientId))?.id;
      continue;
    }
    if (!uuid)
      throw new RealmSyncError(
        "APPLY_FAILED",
        `cluster ${session.name}: client ${identity.clientId} disappeared while bootstrap-identities ran`,
        { cluster: session.name },
      );
    const id = uuid;
    if (step.op === "update-client" || step.op === "set-secret") {
      const current = await call(session, what, () => session.admin.clients.findOne({ realm: MASTER, id }));
      await call(session, what, () =>
        session.admin.clients.update(
          { realm: MASTER, id },
          { ...current, ...IDENTITY_CLIENT_FIELDS, secret, attributes: { ...current?.attributes, ...attributes } },
        ),
      );
      continue;
    }
    const user = await serviceAccountId(session, id, identity.clientId);
    if (step.op === "revoke-realm-roles") {
      const all = await call(session, what, () => session.admin.roles.find({ realm: MASTER }));
      const roles = all.filter((r) => step.roles.includes(r.name ?? "")).map((r) => ({ id: r.id!, name: r.name! }));
      await call(session, what, () => session.admin.users.delRealmRoleMappings({ realm: MASTER, id: user, roles }));
      continue;
    }
    const { uuid: clientUniqueId, roles } = await roleReps(session, step.client, step.roles);
    if (step.op === "grant")
      await call(session, what, () => session.admin.users.addClientRoleMappings({ realm: MASTER, id: user, clientUniqueId, roles }));
    else await call(session, what, () => session.admin.users.delClientRoleMappings({ realm: MASTER, id: user, clientUniqueId, roles }));
  }
}
