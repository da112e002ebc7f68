/**
 * One apply at a time per cluster and realm. The lock is a disabled client with a fixed clientId:
 * Keycloak refuses a second client with the same clientId (409), so creating it is an atomic
 * test-and-set on the cluster itself, with no extra infrastructure. The holder renews a lease in
 * the client's attributes; a lock whose lease has run out (its apply was killed) is removed by id
 * and taken over, so a killed apply never blocks the next one for longer than the lease.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { LOCK_CLIENT_ID } from "../desired/names.ts";
import { RealmSyncError } from "../errors.ts";
import { clusterError, statusOf } from "./errors.ts";
import type { ClusterSession } from "./session.ts";

export const LOCK_OWNER_ATTRIBUTE = "kcb.lock.owner";
export const LOCK_EXPIRES_ATTRIBUTE = "kcb.lock.expires";

export interface LockOptions {
  /** How long the lock stays valid without renewal. */
  leaseMs: number;
  /** Who holds it, shown to whoever is refused. */
  owner?: string;
  now?: () => number;
}

export interface HeldLock {
  owner: string;
  /** Throws LOCKED if a renewal found the lock gone or taken over. */
  assertHeld(): void;
  /** Stops renewing and deletes the lock client. */
  release(): Promise<void>;
}

function lockRep(owner: string, expiresAt: number) {
  return {
    clientId: LOCK_CLIENT_ID,
    name: "realm-sync apply lock",
    description: "Held by a running realm-sync apply; removed when it ends. Expires on its own if that apply was killed.",
    enabled: false,
    publicClient: false,
    bearerOnly: true,
    standardFlowEnabled: false,
    serviceAccountsEnabled: false,
    attributes: { [LOCK_OWNER_ATTRIBUTE]: owner, [LOCK_EXPIRES_ATTRIBUTE]: new Date(expiresAt).toISOString() },
  };
}

export function defaultLockOwner(): string {
  return `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
}

/**
 * Takes the lock on `realm` of one cluster, or throws LOCKED naming the holder and when its lease
 * ends. The lease is renewed every third of its length until {@link HeldLock.release}.
 */
export async function acquireLock(session: ClusterSession, realm: string, opts: LockOptions): Promise<HeldLock> {
  const now = opts.now ?? Date.now;
  const owner = opts.owner ?? defaultLockOwner();
  const clients = session.admin.clients;
  let id: string | undefined;
  for (let attempt = 0; attempt < 3 && !id; attempt++) {
    try {
      id = (await clients.create({ realm, ...lockRep(owner, now() + opts.leaseMs) })).id;
    } catch (error) {
      if (statusOf(error) !== 409) throw clusterError(session.name, `taking the apply lock on realm ${realm}`, error);
      const [held] = await clients.find({ realm, clientId: LOCK_CLIENT_ID }).catch((e: unknown) => {
        throw clusterError(session.name, "reading the apply lock", e);
      });
      if (!held?.id) continue; // released meanwhile
      const heldBy = String(held.attributes?.[LOCK_OWNER_ATTRIBUTE] ?? "an unknown apply");
      const expires = Date.parse(String(held.attributes?.[LOCK_EXPIRES_ATTRIBUTE] ?? ""));
      if (Number.isFinite(expires) && expires > now()) {
        throw new RealmSyncError(
          "LOCKED",
          `cluster ${session.name}: realm ${realm} is locked by another apply (${heldBy}) until ${new Date(expires).toISOString()}; wait for it to finish — if it was killed, its lock expires then`,
          { cluster: session.name },
        );
      }
      // Expired: remove exactly that lock (by id) and try again; a concurrent taker gets 404 or loses the next create.
      await clients.del({ realm, id: held.id }).catch((e: unknown) => {
        if (statusOf(e) !== 404) throw clusterError(session.name, "removing an expired apply lock", e);
      });
    }
  }
  if (!id)
    throw new RealmSyncError("LOCKED", `cluster ${session.name}: could not take the apply lock on realm ${realm}`, {
      cluster: session.name,
    });
  const lockId = id;

  let lost: RealmSyncError | undefined;
  const renew = async () => {
    try {
      const [current] = await clients.find({ realm, clientId: LOCK_CLIENT_ID });
      if (current?.id !== lockId) throw new Error("the lock was removed or taken over");
      await clients.update({ realm, id: lockId }, { id: lockId, ...lockRep(owner, now() + opts.leaseMs) });
    } catch (error) {
      lost ??= new RealmSyncError(
        "LOCKED",
        `cluster ${session.name}: lost the apply lock on realm ${realm} (${(error as Error).message})`,
        { cluster: session.name, cause: error },
      );
    }
  };
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(renew);
    },
    Math.max(1000, Math.floor(opts.leaseMs / 3)),
  );
  timer.unref();

  return {
    owner,
    assertHeld() {
      if (lost) throw lost;
    },
    async release() {
      clearInterval(timer);
      await renewing;
      await clients.del({ realm, id: lockId }).catch((e: unknown) => {
        if (statusOf(e) !== 404) throw clusterError(session.name, "releasing the apply lock", e);
      });
    },
  };
}
