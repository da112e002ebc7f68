/**
 * Desired and live resources flattened to the same comparable shape: field path → value, plus the
 * protocol mappers by name. Only the fields realm-sync owns appear on the desired side; the diff
 * looks each of them up on the live side, so anything else Keycloak stores is left alone.
 */
import { MANAGED_ATTRIBUTE, MANAGED_VALUE } from "../../realm-config/model/conventions.ts";
import { GRANT_ATTRIBUTES, readsAsOn } from "../desired/grants.ts";
import { KEYSTORE_PROVIDER } from "../desired/names.ts";
import { keyConfig } from "../desired/key-provider.ts";
import {
  FIXED_CLIENT_FIELDS,
  type DesiredClient,
  type DesiredClientScope,
  type DesiredIdentityProvider,
  type DesiredKey,
  type DesiredMapper,
  type DesiredRealm,
} from "../desired/types.ts";
import type { FieldValue, ResourceKind } from "./changes.ts";
import type { LiveClient, LiveClientScope, LiveComponent, LiveIdentityProvider, LiveMapper, LiveRealm, LiveRoleMapping } from "./live.ts";

export interface Shape {
  fields: Record<string, FieldValue>;
  /** Paths whose values are secrets: compared, never shown. */
  sensitive: string[];
  /** Mapper name → its fields; absent for kinds without mappers. */
  mappers?: Record<string, Record<string, string>>;
}

export interface DesiredResource {
  kind: ResourceKind;
  name: string;
  shape: Shape;
}

export interface LiveResource {
  kind: ResourceKind;
  name: string;
  id: string;
  /** Carries realm-sync's marker: realm-sync may change or delete it. */
  managed: boolean;
  /** A key Keycloak generated itself (different on every cluster): always removed from a managed realm. */
  generated?: boolean;
  shape: Shape;
}

export const attr = (key: string): string => `attributes[${JSON.stringify(key)}]`;
export const conf = (key: string): string => `config[${JSON.stringify(key)}]`;

function prefixed(prefix: (k: string) => string, record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [prefix(k), v]));
}

function mapperFields(m: DesiredMapper | LiveMapper): Record<string, string> {
  return { protocolMapper: m.protocolMapper, ...prefixed(conf, m.config) };
}

function mappersByName(list: ReadonlyArray<DesiredMapper | LiveMapper>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const m of list) out[m.name] ??= mapperFields(m);
  return out;
}

const sorted = (list: readonly string[]): string[] => [...list].sort();
const isManaged = (attributes: Record<string, string> | undefined): boolean => attributes?.[MANAGED_ATTRIBUTE] === MANAGED_VALUE;

/** The field holding a service account's role mappings: `role` for a realm role, `client/role` for a client's. */
export const SERVICE_ACCOUNT_ROLES = "serviceAccountRoles";

// ---- desired ---------------------------------------------------------------------------------

export function desiredRealm(r: DesiredRealm): DesiredResource {
  return {
    kind: "realm",
    name: r.realm,
    shape: { fields: { enabled: true, accessTokenLifespan: r.accessTokenLifespan, ...prefixed(attr, r.attributes) }, sensitive: [] },
  };
}

/** The fields realm-sync compares on a key provider: its config, and the key the server actually loaded. */
const LOADED_KID = "loaded.kid";
const LOADED_CERTIFICATE = "loaded.certificate";

export function desiredKey(k: DesiredKey): DesiredResource {
  // The configured kid is compared as the kid the server actually uses (loaded.kid).
  const config = Object.fromEntries(Object.entries(keyConfig(k)).filter(([key]) => key !== "kid"));
  return {
    kind: "key",
    name: k.name,
    shape: {
      fields: {
        providerId: KEYSTORE_PROVIDER,
        ...prefixed(conf, config),
        // What the server loaded from its keystore must be the committed certificate, under the configured kid.
        [LOADED_KID]: k.kid,
        [LOADED_CERTIFICATE]: k.certificate,
      },
      sensitive: [],
    },
  };
}

export function desiredClientScope(s: DesiredClientScope): DesiredResource {
  return {
    kind: "clientScope",
    name: s.name,
    shape: {
      fields: { protocol: "openid-connect", description: s.description, ...prefixed(attr, s.attributes) },
      sensitive: [],
      mappers: mappersByName(s.mappers),
    },
  };
}

export function desiredIdentityProvider(p: DesiredIdentityProvider): DesiredResource {
  return {
    kind: "identityProvider",
    name: p.alias,
    shape: { fields: { providerId: p.providerId, enabled: true, displayName: p.displayName, ...prefixed(conf, p.config) }, sensitive: [] },
  };
}

export function desiredClient(c: DesiredClient): DesiredResource {
  const fields: Record<string, FieldValue> = {
    ...FIXED_CLIENT_FIELDS,
    name: c.name,
    description: c.description,
    clientAuthenticatorType: c.clientAuthenticatorType,
    ...prefixed(attr, c.attributes),
    defaultClientScopes: sorted(c.defaultClientScopes),
    optionalClientScopes: sorted(c.optionalClientScopes),
    // Only the realm's default role, which Keycloak maps to every new user and which is not listed.
    [SERVICE_ACCOUNT_ROLES]: [],
  };
  const sensitive: string[] = [];
  if (c.secret !== undefined) {
    fields.secret = c.secret;
    sensitive.push("secret");
  }
  return { kind: "client", name: c.clientId, shape: { fields, sensitive, mappers: mappersByName(c.mappers) } };
}

// ---- live ------------------------------------------------------------------------------------

const roleLabel = (r: LiveRoleMapping): string => (r.clientId === undefined ? r.name : `${r.clientId}/${r.name}`);

/** The role mappings of a managed client's service account that realm-sync does not set (every one but the realm's default role). */
export function extraServiceAccountRoles(c: LiveClient, defaultRole: string | undefined): LiveRoleMapping[] {
  return (c.serviceAccount?.roles ?? []).filter((r) => !(r.clientId === undefined && r.name === defaultRole));
}

export function liveRealm(r: LiveRealm): LiveResource {
  const fields: Record<string, FieldValue> = { enabled: r.enabled, ...prefixed(attr, r.attributes) };
  if (r.accessTokenLifespan !== undefined) fields.accessTokenLifespan = r.accessTokenLifespan;
  return { kind: "realm", name: r.realm, id: r.id, managed: isManaged(r.attributes), shape: { fields, sensitive: [] } };
}

export function liveKey(k: LiveComponent, generatedProviders: readonly string[]): LiveResource {
  const config: Record<string, string> = {};
  for (const [key, values] of Object.entries(k.config)) if (values[0] !== undefined && key !== "kid") config[key] = values[0];
  const fields: Record<string, FieldValue> = { providerId: k.providerId, ...prefixed(conf, config) };
  if (k.loaded) {
    fields[LOADED_KID] = k.loaded.kid;
    fields[LOADED_CERTIFICATE] = k.loaded.certificate;
  }
  return {
    kind: "key",
    name: k.name,
    id: k.id,
    // Keycloak keeps no unknown config keys on key providers, so there is no marker: in a managed
    // realm every java-keystore provider is realm-sync's.
    managed: k.providerId === KEYSTORE_PROVIDER,
    generated: generatedProviders.includes(k.providerId),
    shape: { fields, sensitive: [] },
  };
}

export function liveClientScope(s: LiveClientScope): LiveResource {
  return {
    kind: "clientScope",
    name: s.name,
    id: s.id,
    managed: isManaged(s.attributes),
    shape: {
      fields: { protocol: s.protocol, description: s.description, ...prefixed(attr, s.attributes) },
      sensitive: [],
      mappers: mappersByName(s.mappers),
    },
  };
}

export function liveIdentityProvider(p: LiveIdentityProvider): LiveResource {
  return {
    kind: "identityProvider",
    name: p.alias,
    id: p.internalId,
    managed: isManaged(p.config),
    shape: {
      fields: { providerId: p.providerId, enabled: p.enabled, displayName: p.displayName, ...prefixed(conf, p.config) },
      sensitive: [],
    },
  };
}

/** Grant attributes as Keycloak reads them: absent, "", "false" all mean off. */
function grantAttributes(attributes: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.values(GRANT_ATTRIBUTES).map((key) => [key, String(readsAsOn(attributes[key]))]));
}

export function liveClient(c: LiveClient, defaultRole?: string): LiveResource {
  const fields: Record<string, FieldValue> = {
    enabled: c.enabled,
    protocol: c.protocol,
    name: c.name,
    description: c.description,
    publicClient: c.publicClient,
    bearerOnly: c.bearerOnly,
    consentRequired: c.consentRequired,
    serviceAccountsEnabled: c.serviceAccountsEnabled,
    standardFlowEnabled: c.standardFlowEnabled,
    implicitFlowEnabled: c.implicitFlowEnabled,
    directAccessGrantsEnabled: c.directAccessGrantsEnabled,
    authorizationServicesEnabled: c.authorizationServicesEnabled,
    fullScopeAllowed: c.fullScopeAllowed,
    clientAuthenticatorType: c.clientAuthenticatorType,
    ...prefixed(attr, { ...c.attributes, ...grantAttributes(c.attributes) }),
    defaultClientScopes: sorted(c.defaultClientScopes),
    optionalClientScopes: sorted(c.optionalClientScopes),
  };
  if (c.serviceAccount) fields[SERVICE_ACCOUNT_ROLES] = sorted(extraServiceAccountRoles(c, defaultRole).map(roleLabel));
  if (c.secret !== undefined) fields.secret = c.secret;
  return {
    kind: "client",
    name: c.clientId,
    id: c.id,
    managed: isManaged(c.attributes),
    shape: { fields, sensitive: ["secret"], mappers: mappersByName(c.mappers) },
  };
}
