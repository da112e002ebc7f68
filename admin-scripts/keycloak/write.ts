/**
 * Carries out one cluster's plan with the fewest writes: a new client is one POST (fields, mappers
 * and scope links together); an update touches only what differs (the client's own fields, one
 * mapper, one scope link); nothing else is written. Phases keep references valid: keys first (the
 * configured key is active before Keycloak's generated ones go), scopes and identity providers
 * before the clients that use them, deletions of those after the clients that used them.
 */
import type { Change, ClusterPlan, MapperChange, ResourceKind } from "../diff/changes.ts";
import type { LiveState } from "../diff/live.ts";
import { extraServiceAccountRoles, SERVICE_ACCOUNT_ROLES } from "../diff/shape.ts";
import type { DesiredState } from "../desired/types.ts";
import { RealmSyncError } from "../errors.ts";
import { clusterError } from "./errors.ts";
import { settleAll } from "./pool.ts";
import { clientRep, clientScopeRep, identityProviderRep, keyRep, mapperRep, realmRep } from "./representations.ts";
import type { ClusterSession } from "./session.ts";

export interface WriteOptions {
  /** Client writes in flight at once on this cluster. */
  concurrency: number;
  /** Throws when the cluster's lock was lost; checked before every phase. */
  assertLocked?: () => void;
  /** Called after each resource is done (progress output). */
  onProgress?: (done: number, total: number) => void;
}

export interface WriteFailure {
  kind: ResourceKind;
  name: string;
  op: Change["op"];
  error: RealmSyncError;
}

export interface WriteResult {
  /** Every write sent, e.g. `PUT client orders`, in order of completion. */
  writes: string[];
  failures: WriteFailure[];
}

type Apply = (change: Change) => Promise<void>;

const SCOPE_LISTS = ["defaultClientScopes", "optionalClientScopes"] as const;
/** Client fields written by their own calls, not by the client's PUT. */
const NOT_IN_CLIENT_PUT: readonly string[] = [...SCOPE_LISTS, SERVICE_ACCOUNT_ROLES];

function phaseOf(c: Change): number {
  if (c.kind === "realm") return 0;
  if (c.kind === "key") return c.op === "delete" ? 5 : 1;
  if (c.kind === "clientScope" || c.kind === "identityProvider") return c.op === "delete" ? 4 : 2;
  return 3;
}

function byName<T extends { name: string }>(list: readonly T[], name: string): T | undefined {
  return list.find((x) => x.name === name);
}

/**
 * Applies `plan` (conflicts must have been refused before; foreign objects are never written).
 * Every change is attempted; failures are collected, not thrown.
 */
export async function writePlan(
  session: ClusterSession,
  desired: DesiredState,
  live: LiveState,
  plan: ClusterPlan,
  opts: WriteOptions,
): Promise<WriteResult> {
  const admin = session.admin;
  const realm = desired.realm.realm;
  const realmId = live.realm?.id;
  if (!realmId)
    throw new RealmSyncError("INTERNAL", `cluster ${session.name}: realm ${realm} must exist before its contents are written`, {
      cluster: session.name,
    });
  const writes: string[] = [];
  const failures: WriteFailure[] = [];
  const scopeIds = new Map(live.clientScopes.map((s) => [s.name, s.id]));
  const sent = (what: string) => writes.push(what);

  const mapperOps = async (
    kind: "client" | "clientScope",
    id: string,
    name: string,
    changes: MapperChange[],
    desiredMappers: DesiredState["clients"][number]["mappers"],
    liveMappers: LiveState["clients"][number]["mappers"],
  ) => {
    const api = kind === "client" ? admin.clients : admin.clientScopes;
    for (const m of changes) {
      const want = byName(desiredMappers, m.name);
      const have = byName(liveMappers, m.name);
      if (m.op === "create" && want) await api.addProtocolMapper({ realm, id }, mapperRep(want));
      else if (m.op === "update" && want && have)
        await api.updateProtocolMapper({ realm, id, mapperId: have.id }, mapperRep(want, have.id));
      else if (m.op === "delete" && have) await api.delProtocolMapper({ realm, id, mapperId: have.id });
      else continue;
      sent(`${m.op.toUpperCase()} ${kind} ${name} mapper ${m.name}`);
    }
  };

  const applyRealm: Apply = async (c) => {
    if (c.op !== "update") return;
    await admin.realms.update({ realm }, realmRep(desired.realm, live.realm?.attributes));
    sent(`PUT realm ${realm}`);
  };

  const applyKey: Apply = async (c) => {
    if (c.op === "delete") {
      await admin.components.del({ realm, id: c.id });
      sent(`DELETE key ${c.name}`);
      return;
    }
    const want = desired.keys.find((k) => k.name === c.name);
    if (!want) return;
    if (c.op === "create") await admin.components.create({ realm, ...keyRep(want, realmId) });
    else if (c.op === "update") await admin.components.update({ realm, id: c.id }, keyRep(want, realmId, c.id));
    sent(`${c.op === "create" ? "POST" : "PUT"} key ${c.name}`);
  };

  const applyScope: Apply = async (c) => {
    if (c.op === "delete") {
      await admin.clientScopes.del({ realm, id: c.id });
      sent(`DELETE clientScope ${c.name}`);
      return;
    }
    const want = desired.clientScopes.find((s) => s.name === c.name);
    if (!want) return;
    if (c.op === "create") {
      const { id } = await admin.clientScopes.create({ realm, ...clientScopeRep(want, true) });
      scopeIds.set(want.name, id);
      sent(`POST clientScope ${c.name}`);
    } else if (c.op === "update") {
      if (c.fields.length) {
        await admin.clientScopes.update({ realm, id: c.id }, { id: c.id, ...clientScopeRep(want, false) });
        sent(`PUT clientScope ${c.name}`);
      }
      const have = live.clientScopes.find((s) => s.id === c.id);
      await mapperOps("clientScope", c.id, c.name, c.mappers, want.mappers, have?.mappers ?? []);
    }
  };

  const applyIdp: Apply = async (c) => {
    if (c.op === "delete") {
      await admin.identityProviders.del({ realm, alias: c.name });
      sent(`DELETE identityProvider ${c.name}`);
      return;
    }
    const want = desired.identityProviders.find((p) => p.alias === c.name);
    if (!want) return;
    if (c.op === "create") await admin.identityProviders.create({ realm, ...identityProviderRep(want) });
    else if (c.op === "update" && c.fields.some((f) => f.path === "providerId")) {
      // Keycloak keeps a provider's type for life: switching between `kubernetes` and the extension's `kubernetes-pod` is a replacement.
      await admin.identityProviders.del({ realm, alias: c.name });
      await admin.identityProviders.create({ realm, ...identityProviderRep(want) });
      sent(`DELETE identityProvider ${c.name}`);
    } else if (c.op === "update") {
      const have = live.identityProviders.find((p) => p.alias === c.name);
      await admin.identityProviders.update({ realm, alias: c.name }, { ...identityProviderRep(want, have?.config), internalId: c.id });
    }
    sent(`${c.op === "create" ? "POST" : "PUT"} identityProvider ${c.name}`);
  };

  const applyClient: Apply = async (c) => {
    if (c.op === "delete") {
      await admin.clients.del({ realm, id: c.id });
      sent(`DELETE client ${c.name}`);
      return;
    }
    const want = desired.clients.find((x) => x.clientId === c.name);
    if (!want) return;
    if (c.op === "create") {
      await admin.clients.create({ realm, ...clientRep(want, true) });
      sent(`POST client ${c.name}`);
      return;
    }
    if (c.op !== "update") return;
    const have = live.clients.find((x) => x.id === c.id);
    if (c.fields.some((f) => !NOT_IN_CLIENT_PUT.includes(f.path))) {
      await admin.clients.update({ realm, id: c.id }, { id: c.id, ...clientRep(want, false) });
      sent(`PUT client ${c.name}`);
    }
    for (const list of SCOPE_LISTS) {
      if (!c.fields.some((f) => f.path === list)) continue;
      const current = new Set(have?.[list] ?? []);
      const target = new Set(want[list]);
      const optional = list === "optionalClientScopes";
      for (const name of target) {
        if (current.has(name)) continue;
        const clientScopeId = scopeIds.get(name);
        if (!clientScopeId) throw new RealmSyncError("APPLY_FAILED", `client scope ${name} does not exist`, { cluster: session.name });
        await (optional
          ? admin.clients.addOptionalClientScope({ realm, id: c.id, clientScopeId })
          : admin.clients.addDefaultClientScope({ realm, id: c.id, clientScopeId }));
        sent(`PUT client ${c.name} ${optional ? "optional" : "default"} scope ${name}`);
      }
      for (const name of current) {
        if (target.has(name)) continue;
        const clientScopeId = scopeIds.get(name);
        if (!clientScopeId) continue;
        await (optional
          ? admin.clients.delOptionalClientScope({ realm, id: c.id, clientScopeId })
          : admin.clients.delDefaultClientScope({ realm, id: c.id, clientScopeId }));
        sent(`DELETE client ${c.name} ${optional ? "optional" : "default"} scope ${name}`);
      }
    }
    await mapperOps("client", c.id, c.name, c.mappers, want.mappers, have?.mappers ?? []);
    if (have?.serviceAccount && c.fields.some((f) => f.path === SERVICE_ACCOUNT_ROLES)) await unmapRoles(c.name, have);
  };

  /** Removes the role mappings of a managed client's service account that realm-sync does not set. */
  const unmapRoles = async (name: string, have: LiveState["clients"][number]) => {
    const userId = have.serviceAccount!.userId;
    const extra = extraServiceAccountRoles(have, live.realm?.defaultRole);
    const realmRoles = extra.filter((r) => r.clientId === undefined);
    if (realmRoles.length) {
      await admin.users.delRealmRoleMappings({ realm, id: userId, roles: realmRoles.map((r) => ({ id: r.id, name: r.name })) });
      sent(`DELETE client ${name} service account realm roles ${realmRoles.map((r) => r.name).join(", ")}`);
    }
    for (const clientUniqueId of new Set(extra.filter((r) => r.clientId !== undefined).map((r) => r.containerId))) {
      const roles = extra.filter((r) => r.clientId !== undefined && r.containerId === clientUniqueId);
      await admin.users.delClientRoleMappings({ realm, id: userId, clientUniqueId, roles: roles.map((r) => ({ id: r.id, name: r.name })) });
      sent(`DELETE client ${name} service account roles of ${roles[0]!.clientId}: ${roles.map((r) => r.name).join(", ")}`);
    }
  };

  // realm-sync owns no user: a user is only ever a foreign change, which is not written.
  const handlers: Record<ResourceKind, Apply> = {
    realm: applyRealm,
    key: applyKey,
    clientScope: applyScope,
    identityProvider: applyIdp,
    client: applyClient,
    user: () => Promise.resolve(),
  };
  const todo = plan.changes.filter((c) => c.op !== "conflict" && c.op !== "foreign");
  let done = 0;
  for (let phase = 0; phase <= 5; phase++) {
    const batch = todo.filter((c) => phaseOf(c) === phase);
    if (phase === 1)
      batch.sort(
        (a, b) =>
          Number(desired.keys.find((k) => k.name === b.name)?.active ?? false) -
          Number(desired.keys.find((k) => k.name === a.name)?.active ?? false),
      );
    if (!batch.length) continue;
    opts.assertLocked?.();
    const limit = phase === 3 ? opts.concurrency : phase === 1 || phase === 5 ? 1 : 4;
    const results = await settleAll(batch, limit, async (c) => {
      try {
        await handlers[c.kind](c);
      } finally {
        opts.onProgress?.(++done, todo.length);
      }
    });
    results.forEach((r, i) => {
      if (r.status === "fulfilled") return;
      const c = batch[i]!;
      failures.push({
        kind: c.kind,
        name: c.name,
        op: c.op,
        error: clusterError(session.name, `${c.op} ${c.kind} ${c.name}`, r.reason, "APPLY_FAILED"),
      });
    });
  }
  return { writes, failures };
}
