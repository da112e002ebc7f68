/**
 * Reads a realm's live state in bulk: the realm, its key providers, client scopes, identity
 * providers and clients (full representations with mappers and scope links), in five list calls
 * plus one per 1000 clients. Then what no list returns, bounded in flight: the role mappings of each
 * managed client's service account (two calls per managed client: its user, its mappings) and
 * whether a user has a managed subject as its id (one call per subject).
 */
import type ClientRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js";
import type IdentityProviderRepresentation from "@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js";
import type ProtocolMapperRepresentation from "@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js";
import { MANAGED_ATTRIBUTE, MANAGED_VALUE } from "../../realm-config/model/conventions.ts";
import { EMPTY_LIVE_STATE, type LiveClient, type LiveMapper, type LiveRoleMapping, type LiveState, type LiveUser } from "../diff/live.ts";
import { LOCK_CLIENT_ID } from "../desired/names.ts";
import { clusterError, statusOf } from "./errors.ts";
import { settleAll } from "./pool.ts";
import type { ClusterSession } from "./session.ts";

export const KEY_PROVIDER_TYPE = "org.keycloak.keys.KeyProvider";
const PAGE = 1000;
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

async function allClients(session: ClusterSession, realm: string): Promise<ClientRepresentation[]> {
  const out: ClientRepresentation[] = [];
  for (let first = 0; ; first += PAGE) {
    const page = await session.admin.clients.find({ realm, first, max: PAGE, briefRepresentation: false } as Parameters<
      typeof session.admin.clients.find
    >[0]);
    out.push(...page);
    if (page.length < PAGE) return out;
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

/** The service-account user of each managed client and its direct role mappings. */
async function serviceAccounts(session: ClusterSession, realm: string, clients: LiveClient[]): Promise<void> {
  const managed = clients.filter(
    (c) => c.serviceAccountsEnabled && c.clientId !== LOCK_CLIENT_ID && c.attributes[MANAGED_ATTRIBUTE] === MANAGED_VALUE,
  );
  const results = await settleAll(managed, READS_IN_FLIGHT, async (c) => {
    const user = await session.admin.clients.getServiceAccountUser({ realm, id: c.id });
    const userId = user.id ?? "";
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

/** Users whose id is one of `subjects` (a 404 is the normal answer). */
async function subjectUsers(session: ClusterSession, realm: string, subjects: readonly string[]): Promise<LiveUser[]> {
  const found = valuesOf(
    await settleAll(subjects, READS_IN_FLIGHT, (id) => session.admin.users.findOne({ realm, id }, { catchNotFound: true })),
  );
  return found.flatMap((u) => (u?.id ? [{ id: u.id, username: u.username ?? "" }] : []));
}

/**
 * The live state of `realm` on one cluster; an empty state with `realm: null` when the realm does
 * not exist. `subjects`: the managed workloads' subjects, looked up as user ids.
 */
export async function readLive(session: ClusterSession, realm: string, subjects: readonly string[] = []): Promise<LiveState> {
  try {
    const rep = await session.admin.realms.findOne({ realm });
    if (!rep?.id) return EMPTY_LIVE_STATE;
    const [components, loadedKeys, scopes, idps, clients] = await Promise.all([
      session.admin.components.find({ realm, parent: rep.id, type: KEY_PROVIDER_TYPE }),
      // What each provider actually loaded: a java-keystore provider's key comes from the server's disk.
      session.admin.realms.getKeys({ realm }),
      session.admin.clientScopes.find({ realm }),
      allIdentityProviders(session, realm),
      allClients(session, realm),
    ]);
    const liveClients = clients.map(toLiveClient);
    const [, users] = await Promise.all([serviceAccounts(session, realm, liveClients), subjectUsers(session, realm, subjects)]);
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
