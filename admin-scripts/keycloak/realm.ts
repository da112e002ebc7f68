/** Creating the realm itself: the one write apply makes before it holds the cluster's lock (the lock lives in the realm). */
import type { DesiredRealm } from "../desired/types.ts";
import { clusterError, statusOf } from "./errors.ts";
import { realmRep } from "./representations.ts";
import type { ClusterSession } from "./session.ts";

/** Creates the realm, marked as realm-sync's, unless it exists. Returns whether this call created it. */
export async function ensureRealm(session: ClusterSession, realm: DesiredRealm): Promise<boolean> {
  try {
    const existing = await session.admin.realms.findOne({ realm: realm.realm });
    if (existing?.id) return false;
    await session.admin.realms.create(realmRep(realm));
    return true;
  } catch (error) {
    // Another apply created it between our read and our create: fine, the diff decides what it needs.
    if (statusOf(error) === 409) return false;
    throw clusterError(session.name, `creating realm ${realm.realm}`, error, "APPLY_FAILED");
  }
}
