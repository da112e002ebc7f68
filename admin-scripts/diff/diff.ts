/**
 * Desired vs live → the changes that make one cluster match the config. Pure.
 *
 * Ownership rules: realm-sync changes or deletes only what carries its marker; an unmarked resource
 * with a name the config needs is a conflict (never adopted, never changed); a marked resource the
 * config no longer names is deleted; keys Keycloak generated itself are removed, because every
 * cluster must publish the same JWKS. Anything else in the realm is invisible to the diff, except
 * what would put a managed workload's `sub` in a token (`foreign.ts`): flagged, never changed.
 */
import { GENERATED_ASYMMETRIC_KEY_PROVIDERS, LOCK_CLIENT_ID } from "../desired/names.ts";
import type { DesiredState } from "../desired/types.ts";
import {
  SENSITIVE,
  type Change,
  type ClusterPlan,
  type FieldChange,
  type FieldValue,
  type MapperChange,
  type ResourceKind,
} from "./changes.ts";
import { foreignChanges } from "./foreign.ts";
import type { LiveState } from "./live.ts";
import {
  desiredClient,
  desiredClientScope,
  desiredIdentityProvider,
  desiredKey,
  desiredRealm,
  liveClient,
  liveClientScope,
  liveIdentityProvider,
  liveKey,
  liveRealm,
  type DesiredResource,
  type LiveResource,
  type Shape,
} from "./shape.ts";

function equal(a: FieldValue | undefined, b: FieldValue | undefined): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
}

/** What a field Keycloak does not return at all means: an empty string, false, an empty list. */
function absentAs(desired: FieldValue): FieldValue | undefined {
  if (typeof desired === "string") return "";
  if (typeof desired === "boolean") return false;
  if (Array.isArray(desired)) return [];
  return undefined;
}

function fieldChanges(desired: Shape, live: Shape | undefined): FieldChange[] {
  const out: FieldChange[] = [];
  for (const [path, to] of Object.entries(desired.fields)) {
    const hidden = desired.sensitive.includes(path);
    if (!live) {
      if (to !== "") out.push({ path, to: hidden ? SENSITIVE : to });
      continue;
    }
    const from = path in live.fields ? live.fields[path] : absentAs(to);
    if (equal(from, to)) continue;
    out.push(
      hidden
        ? { path, ...(from === undefined ? {} : { from: SENSITIVE }), to: SENSITIVE }
        : { path, ...(from === undefined ? {} : { from }), to },
    );
  }
  return out;
}

function mapperChanges(desired: Shape, live: Shape | undefined): MapperChange[] {
  const want = desired.mappers ?? {};
  const have = live?.mappers ?? {};
  const out: MapperChange[] = [];
  for (const [name, fields] of Object.entries(want)) {
    const current = have[name];
    if (!current) {
      out.push({ op: "create", name, fields: Object.entries(fields).map(([path, to]) => ({ path, to })) });
      continue;
    }
    const changed: FieldChange[] = [];
    for (const path of new Set([...Object.keys(fields), ...Object.keys(current)])) {
      const to = fields[path] ?? "";
      const from = current[path] ?? "";
      if (from !== to) changed.push({ path, from, to });
    }
    if (changed.length) out.push({ op: "update", name, fields: changed });
  }
  for (const [name, fields] of Object.entries(have)) {
    if (!(name in want)) out.push({ op: "delete", name, fields: Object.entries(fields).map(([path, from]) => ({ path, from })) });
  }
  return out;
}

function compareCollection(kind: ResourceKind, desired: DesiredResource[], live: LiveResource[]): Change[] {
  const changes: Change[] = [];
  const claimed = new Set<LiveResource>();
  for (const want of desired) {
    // Keys: component names are not unique in Keycloak; only realm-sync's own keys are candidates.
    const candidates = live.filter((l) => l.name === want.name && (kind !== "key" || l.managed));
    const match = candidates[0];
    if (!match) {
      changes.push({
        op: "create",
        kind,
        name: want.name,
        fields: fieldChanges(want.shape, undefined),
        mappers: mapperChanges(want.shape, undefined),
      });
      continue;
    }
    candidates.forEach((c) => claimed.add(c));
    if (!match.managed) {
      changes.push({
        op: "conflict",
        kind,
        name: want.name,
        id: match.id,
        reason: `a ${kind} "${want.name}" exists that realm-sync does not manage; rename it or remove it`,
      });
      continue;
    }
    const fields = fieldChanges(want.shape, match.shape);
    const mappers = mapperChanges(want.shape, match.shape);
    if (fields.length || mappers.length) changes.push({ op: "update", kind, name: want.name, id: match.id, fields, mappers });
    for (const extra of candidates.slice(1)) {
      if (extra.managed) changes.push({ op: "delete", kind, name: extra.name, id: extra.id, reason: "duplicate of a managed resource" });
    }
  }
  const leftovers = live.filter((l) => !claimed.has(l)).sort((a, b) => a.name.localeCompare(b.name));
  for (const l of leftovers) {
    if (l.managed) changes.push({ op: "delete", kind, name: l.name, id: l.id, reason: "no longer in the config" });
    else if (l.generated)
      changes.push({ op: "delete", kind, name: l.name, id: l.id, reason: "generated by Keycloak: a different key on every cluster" });
  }
  return changes;
}

/**
 * The plan for one cluster. A missing realm plans the realm and everything in it as creations; a
 * realm without realm-sync's marker is one conflict and nothing else.
 *
 * @example const plan = diffCluster("eu", desired, live); // plan.changes: create/update/delete/conflict
 */
export function diffCluster(cluster: string, desired: DesiredState, live: LiveState): ClusterPlan {
  const realmName = desired.realm.realm;
  const want = {
    keys: desired.keys.map(desiredKey),
    clientScopes: desired.clientScopes.map(desiredClientScope),
    identityProviders: desired.identityProviders.map(desiredIdentityProvider),
    clients: desired.clients.map(desiredClient),
  };
  const realm = desiredRealm(desired.realm);
  const changes: Change[] = [];

  if (!live.realm) {
    changes.push({ op: "create", kind: "realm", name: realmName, fields: fieldChanges(realm.shape, undefined), mappers: [] });
    for (const list of [want.keys, want.clientScopes, want.identityProviders, want.clients]) {
      for (const r of list)
        changes.push({
          op: "create",
          kind: r.kind,
          name: r.name,
          fields: fieldChanges(r.shape, undefined),
          mappers: mapperChanges(r.shape, undefined),
        });
    }
    return { cluster, realm: realmName, changes: [...changes, ...foreignChanges(desired, live)] };
  }

  const have = liveRealm(live.realm);
  if (!have.managed) {
    return {
      cluster,
      realm: realmName,
      changes: [
        {
          op: "conflict",
          kind: "realm",
          name: realmName,
          id: have.id,
          reason: `realm "${realmName}" exists and was not created by realm-sync; realm-sync only manages realms it created`,
        },
      ],
    };
  }
  const realmFields = fieldChanges(realm.shape, have.shape);
  if (realmFields.length) changes.push({ op: "update", kind: "realm", name: realmName, id: have.id, fields: realmFields, mappers: [] });

  changes.push(
    ...compareCollection(
      "key",
      want.keys,
      live.keys.map((k) => liveKey(k, GENERATED_ASYMMETRIC_KEY_PROVIDERS)),
    ),
    ...compareCollection("clientScope", want.clientScopes, live.clientScopes.map(liveClientScope)),
    ...compareCollection("identityProvider", want.identityProviders, live.identityProviders.map(liveIdentityProvider)),
    ...compareCollection(
      "client",
      want.clients,
      live.clients.filter((c) => c.clientId !== LOCK_CLIENT_ID).map((c) => liveClient(c, live.realm?.defaultRole)),
    ),
    ...foreignChanges(desired, live),
  );
  return { cluster, realm: realmName, changes };
}
