/**
 * Reads a realm's live state in bulk: the realm, its key providers, client scopes, identity
 * providers and clients (full representations with mappers and scope links), in five list calls
 * plus one per 1000 clients. Then what no list returns, bounded in flight: the managed clients'
 * service-account users and the users whose id is a managed subject, found in bulk (a few `search`
 * calls per 500, `user-search.ts`), and each service account's role mappings (one call per managed
 * client: Keycloak has no list of every client role to ask "who holds it" instead).
 */
import type ClientRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js";
import type IdentityProviderRepresentation from "@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js";
import type ProtocolMapperRepresentation from "@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js";
import { MANAGED_ATTRIBUTE, MANAGED_VALUE } from "../../realm-config/model/conventions.ts";
import { EMPTY_LIVE_STATE, type LiveClient, type LiveMapper, type LiveRoleMapping, type LiveState, type LiveUser } from "../diff/live.ts";
import { LOCK_CLIENT_ID } from "../desired/names.ts";
import { clusterError, statusOf } from "./errors.ts";
import { pageStarts } from "./paging.ts";
import { settleAll } from "./pool.ts";
import { batchable, searchBatches, searchValue, serviceAccountUsername, unansweredIds } from "./user-search.ts";
import type { ClusterSession } from "./session.ts";

export const KEY_PROVIDER_TYPE = "org.keycloak.keys.KeyProvider";
const PAGE = 1000;
/** Clients per page: several pages are read at once (`paging.ts`). */
const CLIENT_PAGE = 100;
/** Per-client and per-subject reads in flight at once. */
const READS_IN_FLIGHT = 8;

function stringRecord(value: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

function mappers(list: ProtocolMapperRepresentation[] | undefined): LiveMapper[] {
  return (list ?? []).map((m) => ({
    id: m.id ?? "",
    name: m.name ?? "",
    protocolMapper: m.protocolMapper ?? "",
    config: stringRecord(m.config),
  }));
}

export function toLiveClient(c: ClientRepresentation): LiveClient {
  return {
    id: c.id ?? "",
    clientId: c.clientId ?? "",
    name: c.name ?? "",
    description: c.description ?? "",
    enabled: c.enabled ?? false,
    protocol: c.protocol ?? "",
    publicClient: c.publicClient ?? false,
    bearerOnly: c.bearerOnly ?? false,
    consentRequired: c.consentRequired ?? false,
    serviceAccountsEnabled: c.serviceAccountsEnabled ?? false,
    standardFlowEnabled: c.standardFlowEnabled ?? false,
    implicitFlowEnabled: c.implicitFlowEnabled ?? false,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled ?? false,
    authorizationServicesEnabled: c.authorizationServicesEnabled ?? false,
    fullScopeAllowed: c.fullScopeAllowed ?? false,
    clientAuthenticatorType: c.clientAuthenticatorType ?? "",
    secret: c.secret,
    attributes: stringRecord(c.attributes),
    defaultClientScopes: c.defaultClientScopes ?? [],
    optionalClientScopes: c.optionalClientScopes ?? [],
    mappers: mappers(c.protocolMappers),
  };
}

/** Every client, full representations; `expected` (how many there should be) sizes the first pages read at once (`paging.ts`). */
async function allClients(session: ClusterSession, realm: string, expected: number): Promise<ClientRepresentation[]> {
  const out = new Map<string, ClientRepresentation>();
  for (let first = 0; ;) {
    const starts = pageStarts(first, CLIENT_PAGE, expected, READS_IN_FLIGHT);
    const pages = valuesOf(
      await settleAll(starts, READS_IN_FLIGHT, (start) =>
        session.admin.clients.find({ realm, first: start, max: CLIENT_PAGE, briefRepresentation: false } as Parameters<
          typeof session.admin.clients.find
        >[0]),
      ),
    );
    // The pages are read at once, not in one query: a client someone creates or deletes meanwhile can shift another
    // across a page boundary (kept once if seen twice; one not seen shows as drift, and apply's verification read
    // reports it pending), which the next read corrects.
    for (const page of pages) for (const c of page) out.set(c.id ?? c.clientId ?? "", c);
    if (pages.some((p) => p.length < CLIENT_PAGE)) return [...out.values()];
    first = (starts.at(-1) ?? first) + CLIENT_PAGE;
  }
}

async function allIdentityProviders(session: ClusterSession, realm: string): Promise<IdentityProviderRepresentation[]> {
  const out: IdentityProviderRepresentation[] = [];
  for (let first = 0; ; first += PAGE) {
    const page = await session.admin.identityProviders.find({ realm, first, max: PAGE, briefRepresentation: false } as Parameters<
      typeof session.admin.identityProviders.find
    >[0]);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/** Every settled result's value; the first failure is thrown. */
function valuesOf<R>(results: Array<PromiseSettledResult<R>>): R[] {
  return results.map((r) => {
    if (r.status === "rejected") throw r.reason;
    return r.value;
  });
}

type ClientMappings = Record<string, { id?: string; client?: string; mappings?: Array<{ id?: string; name?: string }> } | undefined>;

type FoundUser = { id: string; username: string };

/** Users answered by one bulk `search` (see `user-search.ts`). */
async function searchUsers(session: ClusterSession, realm: string, search: string): Promise<FoundUser[]> {
  const users = await session.admin.users.find({ realm, search, briefRepresentation: true });
  return users.flatMap((u) => (u.id ? [{ id: u.id, username: u.username ?? "" }] : []));
}

/** Managed client id → its service-account user's id: by username in bulk, a client not found that way by its own call. */
async function serviceAccountUserIds(session: ClusterSession, realm: string, managed: readonly LiveClient[]): Promise<Map<string, string>> {
  const byUsername = new Map(managed.map((c) => [serviceAccountUsername(c.clientId), c]));
  const out = new Map<string, string>();
  const batches = searchBatches("username:", [...byUsername.keys()], { spread: READS_IN_FLIGHT });
  for (const users of valuesOf(
    await settleAll(batches, READS_IN_FLIGHT, (batch) => searchUsers(session, realm, searchValue("username:", batch))),
  )) {
    for (const u of users) {
      const client = byUsername.get(u.username.toLowerCase());
      if (client) out.set(client.id, u.id);
    }
  }
  const missing = managed.filter((c) => !out.has(c.id));
  const found = valuesOf(
    await settleAll(
      missing,
      READS_IN_FLIGHT,
      async (c) => (await session.admin.clients.getServiceAccountUser({ realm, id: c.id })).id ?? "",
    ),
  );
  missing.forEach((c, i) => out.set(c.id, found[i] ?? ""));
  return out;
}

/** The managed clients with a service account (the lock is not one). */
function managedServiceAccountClients(clients: readonly LiveClient[]): LiveClient[] {
  return clients.filter(
    (c) => c.serviceAccountsEnabled && c.clientId !== LOCK_CLIENT_ID && c.attributes[MANAGED_ATTRIBUTE] === MANAGED_VALUE,
  );
}

/** The direct role mappings of each managed client's service account (one call per managed client). */
async function roleMappings(
  session: ClusterSession,
  realm: string,
  managed: readonly LiveClient[],
  userIds: ReadonlyMap<string, string>,
): Promise<void> {
  const results = await settleAll(managed, READS_IN_FLIGHT, async (c) => {
    const userId = userIds.get(c.id) ?? "";
    const mappings = await session.admin.users.listRoleMappings({ realm, id: userId });
    const roles: LiveRoleMapping[] = (mappings.realmMappings ?? []).map((r) => ({
      id: r.id ?? "",
      name: r.name ?? "",
      containerId: r.containerId ?? "",
    }));
    for (const [clientId, m] of Object.entries((mappings.clientMappings ?? {}) as ClientMappings)) {
      for (const r of m?.mappings ?? [])
        roles.push({ id: r.id ?? "", name: r.name ?? "", clientId: m?.client ?? clientId, containerId: m?.id ?? "" });
    }
    c.serviceAccount = { userId, roles };
  });
  valuesOf(results);
}

/**
 * A user known to exist, to prove that the server answers an `id:` search as a list: `found` (a
 * managed client's service account), else any user; none when the realm has no user at all.
 */
async function knownUserId(
  session: ClusterSession,
  realm: string,
  clients: readonly LiveClient[],
  found: string | undefined,
): Promise<string | undefined> {
  if (found) return found;
  // This list leaves service accounts out.
  const [user] = await session.admin.users.find({ realm, first: 0, max: 1, briefRepresentation: true });
  if (user?.id) return user.id;
  // No user but service accounts, and only clients with a service account have one.
  const other = clients.find((c) => c.serviceAccountsEnabled);
  return other ? (await session.admin.clients.getServiceAccountUser({ realm, id: other.id })).id : undefined;
}

/** Users whose id is one of `subjects`: in bulk (`id:` search with a canary), one by one where the server did not answer a list. */
async function subjectUsers(
  session: ClusterSession,
  realm: string,
  subjects: readonly string[],
  clients: readonly LiveClient[],
  serviceAccountUserId: string | undefined,
): Promise<LiveUser[]> {
  if (subjects.length === 0) return [];
  const canary = await knownUserId(session, realm, clients, serviceAccountUserId);
  if (canary === undefined) return []; // the realm has no user at all
  const wanted = new Set(subjects);
  const batches = searchBatches("id:", subjects, { fixed: canary, spread: READS_IN_FLIGHT });
  const answers = valuesOf(await settleAll(batches, READS_IN_FLIGHT, (batch) => searchUsers(session, realm, searchValue("id:", batch))));
  const alone = subjects.filter((s) => !batchable(s));
  const found: FoundUser[] = [];
  answers.forEach((users, i) => {
    alone.push(...unansweredIds(batches[i] ?? [], canary, new Set(users.map((u) => u.id))));
    found.push(...users.filter((u) => wanted.has(u.id)));
  });
  const single = valuesOf(
    await settleAll(alone, READS_IN_FLIGHT, (id) => session.admin.users.findOne({ realm, id }, { catchNotFound: true })),
  );
  for (const u of single) if (u?.id) found.push({ id: u.id, username: u.username ?? "" });
  return [...new Map(found.map((u) => [u.id, u])).values()];
}

/**
 * The live state of `realm` on one cluster; an empty state with `realm: null` when the realm does
 * not exist. `subjects`: the managed workloads' subjects, looked up as user ids; `expectedClients`:
 * how many clients the realm should hold (the desired ones), to read their pages at once.
 */
export async function readLive(
  session: ClusterSession,
  realm: string,
  subjects: readonly string[] = [],
  opts: { expectedClients?: number } = {},
): Promise<LiveState> {
  try {
    const rep = await session.admin.realms.findOne({ realm });
    if (!rep?.id) return EMPTY_LIVE_STATE;
    const [components, loadedKeys, scopes, idps, clients] = await Promise.all([
      session.admin.components.find({ realm, parent: rep.id, type: KEY_PROVIDER_TYPE }),
      // What each provider actually loaded: a java-keystore provider's key comes from the server's disk.
      session.admin.realms.getKeys({ realm }),
      session.admin.clientScopes.find({ realm }),
      allIdentityProviders(session, realm),
      allClients(session, realm, opts.expectedClients ?? 0),
    ]);
    const liveClients = clients.map(toLiveClient);
    const managed = managedServiceAccountClients(liveClients);
    const userIds = await serviceAccountUserIds(session, realm, managed);
    const [, users] = await Promise.all([
      roleMappings(session, realm, managed, userIds),
      subjectUsers(session, realm, subjects, liveClients, userIds.values().next().value),
    ]);
    return {
      realm: {
        id: rep.id,
        realm,
        enabled: rep.enabled ?? false,
        accessTokenLifespan: rep.accessTokenLifespan,
        attributes: stringRecord(rep.attributes),
        ...(rep.defaultRole?.name ? { defaultRole: rep.defaultRole.name } : {}),
      },
      keys: components.map((k) => {
        const loaded = (loadedKeys.keys ?? []).find((key) => key.providerId === k.id && key.type === "RSA" && key.certificate);
        return {
          id: k.id ?? "",
          name: k.name ?? "",
          providerId: k.providerId ?? "",
          config: (k.config ?? {}) as Record<string, string[]>,
          ...(loaded ? { loaded: { kid: loaded.kid ?? "", certificate: loaded.certificate ?? "" } } : {}),
        };
      }),
      clientScopes: scopes.map((s) => ({
        id: s.id ?? "",
        name: s.name ?? "",
        description: s.description ?? "",
        protocol: s.protocol ?? "",
        attributes: stringRecord(s.attributes),
        mappers: mappers(s.protocolMappers),
      })),
      identityProviders: idps.map((p) => ({
        alias: p.alias ?? "",
        internalId: p.internalId ?? "",
        providerId: p.providerId ?? "",
        enabled: p.enabled ?? false,
        displayName: p.displayName ?? "",
        config: stringRecord(p.config),
      })),
      clients: liveClients,
      subjectUsers: users,
    };
  } catch (error) {
    if (statusOf(error) === 404) return EMPTY_LIVE_STATE;
    throw clusterError(session.name, `reading realm ${realm}`, error);
  }
}
