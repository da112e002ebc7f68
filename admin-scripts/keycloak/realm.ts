/** Creating the realm itself: the one write apply makes before it holds the cluster's lock (the lock lives in the realm). */
import type { DesiredRealm } from "../desired/types.ts";
import { RealmSyncError } from "../errors.ts";
import { MANAGED_ATTRIBUTE, MANAGED_VALUE } from "../../realm-config/model/conventions.ts";
import { clusterError, statusOf } from "./errors.ts";
import { realmRep } from "./representations.ts";
import type { ClusterSession } from "./session.ts";

function refuseUnmanaged(session: ClusterSession, realm: string): RealmSyncError {
  return new RealmSyncError(
    "APPLY_FAILED",
    `cluster ${session.name}: realm ${realm} exists and was not created by realm-sync; realm-sync only manages realms it created`,
    { cluster: session.name },
  );
}

/**
 * Creates the realm, marked as realm-sync's, unless it exists; refuses (before any write) a realm
 * realm-sync did not create. Returns whether this call created it.
 */
export async function ensureRealm(session: ClusterSession, realm: DesiredRealm): Promise<boolean> {
  let existing;
  try {
    existing = await session.admin.realms.findOne({ realm: realm.realm });
  } catch (error) {
    if (statusOf(error) !== 404) throw clusterError(session.name, `reading realm ${realm.realm}`, error);
  }
  if (existing?.id) {
    if (existing.attributes?.[MANAGED_ATTRIBUTE] !== MANAGED_VALUE) throw refuseUnmanaged(session, realm.realm);
    return false;
  }
  try {
    await session.admin.realms.create(realmRep(realm));
    return true;
  } catch (error) {
    // Another apply created it between our read and our create: fine, the diff decides what it needs.
    if (statusOf(error) === 409) return false;
    // realm-sync's apply identity holds roles of this realm only: only the bootstrap admin creates it.
    if (statusOf(error) === 403) {
      throw new RealmSyncError(
        "CLUSTER_FORBIDDEN",
        `cluster ${session.name}: realm ${realm.realm} does not exist and this identity may not create realms: create it and realm-sync's identities with \`realm-sync bootstrap-identities\` (bootstrap admin)`,
        { cluster: session.name, cause: error },
      );
    }
    throw clusterError(session.name, `creating realm ${realm.realm}`, error, "APPLY_FAILED");
  }
}
