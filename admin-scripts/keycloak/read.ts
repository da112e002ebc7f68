/**
 * Reads a realm's live state in bulk: the realm, its key providers, client scopes, identity
 * providers and clients (full representations with mappers and scope links), in five list calls
 * plus one per 1000 clients, never one call per client.
 */
import type ClientRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js";
import type IdentityProviderRepresentation from "@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js";
import type ProtocolMapperRepresentation from "@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js";
import { EMPTY_LIVE_STATE, type LiveClient, type LiveMapper, type LiveState } from "../diff/live.ts";
import { clusterError, statusOf } from "./errors.ts";
import type { ClusterSession } from "./session.ts";

export const KEY_PROVIDER_TYPE = "org.keycloak.keys.KeyProvider";
const PAGE = 1000;

function stringRecord(value: Record<string, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value ?? {})) if (typeof v === "string") out[k] = v;
  return out;
}

function mappers(list: ProtocolMapperRepresentation[] | undefined): LiveMapper[] {
  return (list ?? []).map((m) => ({ id: m.id ?? "", name: m.name ?? "", protocolMapper: m.protocolMapper ?? "", config: stringRecord(m.config) }));
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
    const page = await session.admin.clients.find({ realm, first, max: PAGE, briefRepresentation: false } as Parameters<typeof session.admin.clients.find>[0]);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

async function allIdentityProviders(session: ClusterSession, realm: string): Promise<IdentityProviderRepresentation[]> {
  const out: IdentityProviderRepresentation[] = [];
  for (let first = 0; ; first += PAGE) {
    const page = await session.admin.identityProviders.find({ realm, first, max: PAGE, briefRepresentation: false } as Parameters<typeof session.admin.identityProviders.find>[0]);
    out.push(...page);
    if (page.length < PAGE) return out;
  }
}

/** The live state of `realm` on one cluster; an empty state with `realm: null` when the realm does not exist. */
export async function readLive(session: ClusterSession, realm: string): Promise<LiveState> {
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
    return {
      realm: { id: rep.id, realm, enabled: rep.enabled ?? false, accessTokenLifespan: rep.accessTokenLifespan, attributes: stringRecord(rep.attributes) },
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
      clients: clients.map(toLiveClient),
    };
  } catch (error) {
    if (statusOf(error) === 404) return EMPTY_LIVE_STATE;
    throw clusterError(session.name, `reading realm ${realm}`, error);
  }
}
