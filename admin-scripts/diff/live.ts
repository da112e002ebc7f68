/**
 * What realm-sync reads from a cluster: the parts of Keycloak's admin representations it compares,
 * read in bulk (a handful of list calls per realm, never one per client). `keycloak/read.ts` fills
 * these from the admin API; the diff never sees the admin client itself.
 */

export interface LiveMapper {
  id: string;
  name: string;
  protocolMapper: string;
  config: Record<string, string>;
}

export interface LiveRealm {
  id: string;
  realm: string;
  enabled: boolean;
  accessTokenLifespan: number | undefined;
  attributes: Record<string, string>;
  /** Name of the realm's default role (`default-roles-<realm>`): Keycloak maps it to every new user, service accounts included. */
  defaultRole?: string;
}

/** A key-provider component. Secret config values come back masked (vault references do not). */
export interface LiveComponent {
  id: string;
  name: string;
  providerId: string;
  config: Record<string, string[]>;
  /** The key this provider actually loaded (admin keys endpoint): absent when the server could not load it. */
  loaded?: { kid: string; certificate: string };
}

export interface LiveClientScope {
  id: string;
  name: string;
  description: string;
  protocol: string;
  attributes: Record<string, string>;
  mappers: LiveMapper[];
}

export interface LiveIdentityProvider {
  alias: string;
  internalId: string;
  providerId: string;
  enabled: boolean;
  displayName: string;
  config: Record<string, string>;
}

export interface LiveClient {
  id: string;
  clientId: string;
  name: string;
  description: string;
  enabled: boolean;
  protocol: string;
  publicClient: boolean;
  bearerOnly: boolean;
  consentRequired: boolean;
  serviceAccountsEnabled: boolean;
  standardFlowEnabled: boolean;
  implicitFlowEnabled: boolean;
  directAccessGrantsEnabled: boolean;
  authorizationServicesEnabled: boolean;
  fullScopeAllowed: boolean;
  clientAuthenticatorType: string;
  secret: string | undefined;
  attributes: Record<string, string>;
  defaultClientScopes: string[];
  optionalClientScopes: string[];
  mappers: LiveMapper[];
  /** The service-account user and its direct role mappings; read for managed clients only. */
  serviceAccount?: { userId: string; roles: LiveRoleMapping[] };
}

/** One role mapped to a user: a realm role, or a role of the client `clientId` (`containerId` = that client's id). */
export interface LiveRoleMapping {
  id: string;
  name: string;
  clientId?: string;
  containerId: string;
}

/** A user whose id is a managed workload's subject: Keycloak's `sub` mapper puts that id in its tokens. */
export interface LiveUser {
  id: string;
  /** `service-account-<clientId>` for a client's service account. */
  username: string;
}

/** What the cluster runs, from the admin server info. */
export interface LiveServer {
  /** Names of the enabled features (`TOKEN_EXCHANGE`, …). */
  enabledFeatures: string[];
}

/** One realm on one cluster; `realm` is null when the realm does not exist (and the lists are empty). */
export interface LiveState {
  realm: LiveRealm | null;
  keys: LiveComponent[];
  clientScopes: LiveClientScope[];
  identityProviders: LiveIdentityProvider[];
  clients: LiveClient[];
  /** Users whose id is one of the managed subjects (normally none). */
  subjectUsers: LiveUser[];
  /** Absent when not read. */
  server?: LiveServer;
}

export const EMPTY_LIVE_STATE: LiveState = {
  realm: null,
  keys: [],
  clientScopes: [],
  identityProviders: [],
  clients: [],
  subjectUsers: [],
};
