/** Desired state → the admin API's representations (what realm-sync POSTs and PUTs). */
import type ClientRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientRepresentation.js";
import type ClientScopeRepresentation from "@keycloak/keycloak-admin-client/lib/defs/clientScopeRepresentation.js";
import type ComponentRepresentation from "@keycloak/keycloak-admin-client/lib/defs/componentRepresentation.js";
import type IdentityProviderRepresentation from "@keycloak/keycloak-admin-client/lib/defs/identityProviderRepresentation.js";
import type ProtocolMapperRepresentation from "@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js";
import type RealmRepresentation from "@keycloak/keycloak-admin-client/lib/defs/realmRepresentation.js";
import {
  FIXED_CLIENT_FIELDS,
  type DesiredClient,
  type DesiredClientScope,
  type DesiredIdentityProvider,
  type DesiredKey,
  type DesiredMapper,
  type DesiredRealm,
} from "../desired/types.ts";
import { KEY_PROVIDER_TYPE } from "./read.ts";
import { keyConfig } from "../desired/key-provider.ts";
import { KEYSTORE_PROVIDER } from "../desired/names.ts";

export function mapperRep(m: DesiredMapper, id?: string): ProtocolMapperRepresentation {
  return { ...(id ? { id } : {}), name: m.name, protocol: "openid-connect", protocolMapper: m.protocolMapper, config: { ...m.config } };
}

export function realmRep(r: DesiredRealm, liveAttributes: Record<string, string> = {}): RealmRepresentation {
  return { realm: r.realm, enabled: true, accessTokenLifespan: r.accessTokenLifespan, attributes: { ...liveAttributes, ...r.attributes } };
}

export function keyRep(k: DesiredKey, realmId: string, id?: string): ComponentRepresentation {
  return {
    ...(id ? { id } : {}),
    name: k.name,
    providerId: KEYSTORE_PROVIDER,
    providerType: KEY_PROVIDER_TYPE,
    parentId: realmId,
    config: Object.fromEntries(Object.entries(keyConfig(k)).map(([key, value]) => [key, [value]])),
  };
}

export function clientScopeRep(s: DesiredClientScope, withMappers: boolean): ClientScopeRepresentation {
  return {
    name: s.name,
    description: s.description,
    protocol: "openid-connect",
    attributes: { ...s.attributes },
    ...(withMappers ? { protocolMappers: s.mappers.map((m) => mapperRep(m)) } : {}),
  };
}

export function identityProviderRep(p: DesiredIdentityProvider, liveConfig: Record<string, string> = {}): IdentityProviderRepresentation {
  return {
    alias: p.alias,
    providerId: p.providerId,
    displayName: p.displayName,
    enabled: true,
    hideOnLogin: true,
    config: { ...liveConfig, ...p.config },
  };
}

/** The client's own fields; on create also its mappers and scope links (one POST makes the whole client). */
export function clientRep(c: DesiredClient, forCreate: boolean): ClientRepresentation {
  return {
    clientId: c.clientId,
    name: c.name,
    description: c.description,
    ...FIXED_CLIENT_FIELDS,
    clientAuthenticatorType: c.clientAuthenticatorType,
    ...(c.secret === undefined ? {} : { secret: c.secret }),
    attributes: { ...c.attributes },
    ...(forCreate
      ? {
          protocolMappers: c.mappers.map((m) => mapperRep(m)),
          defaultClientScopes: [...c.defaultClientScopes],
          optionalClientScopes: [...c.optionalClientScopes],
        }
      : {}),
  };
}
