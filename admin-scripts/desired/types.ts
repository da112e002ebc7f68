/**
 * The Keycloak state a trust domain asks for, per realm, identical on every cluster. Built from the
 * config by `buildDesired` (pure apart from resolving secrets); compared with what a cluster has by
 * `diff/`; written by `keycloak/`. Holds secret values (client secrets): never log it. It never
 * holds a signing key: those stay on the Keycloak servers.
 */

/** A protocol mapper: on a client or a client scope, identified by name within its parent. */
export interface DesiredMapper {
  name: string;
  protocolMapper: string;
  config: Record<string, string>;
}

export interface DesiredRealm {
  realm: string;
  accessTokenLifespan: number;
  /** Realm attributes realm-sync owns (the managed marker, `frontendUrl`). */
  attributes: Record<string, string>;
}

/** A `java-keystore` key provider: every server loads the key from its own disk; realm-sync holds only the public certificate. */
export interface DesiredKey {
  name: string;
  active: boolean;
  priority: number;
  /** Base64 DER of the committed certificate: what every cluster must publish in `x5c`. */
  certificate: string;
  /** Set in the provider's config, so every cluster publishes the same `kid` for the same key. */
  kid: string;
  publicJwk: { n: string; e: string };
  /** The keystore on every server: file in `<keystores-path>/<realm>/`, key alias, vault entry of the password. */
  keystore: { file: string; alias: string; passwordVault: string };
}

export interface DesiredClientScope {
  name: string;
  description: string;
  attributes: Record<string, string>;
  mappers: DesiredMapper[];
}

/**
 * A Kubernetes identity provider: trusts one service-account issuer for federated client
 * authentication. `kubernetes-pod` is the Keycloak extension's (per-pod identity), `kubernetes`
 * Keycloak's own (for an issuer not declared in `kubernetesIssuers`).
 */
export interface DesiredIdentityProvider {
  alias: string;
  providerId: "kubernetes" | "kubernetes-pod";
  displayName: string;
  /** Provider config realm-sync owns (`issuer`, the extension's settings and the managed marker). */
  config: Record<string, string>;
}

/** The Keycloak extension a desired state needs on every cluster: these providers, at this version. */
export interface RequiredExtension {
  version: string;
  /** `spi → provider id`, as the admin server info lists them. */
  providers: Array<{ spi: string; id: string }>;
}

export interface DesiredClient {
  clientId: string;
  name: string;
  description: string;
  clientAuthenticatorType: "client-secret" | "client-jwt" | "federated-jwt";
  /** Secret; only for `client-secret`. */
  secret?: string;
  /**
   * Every attribute realm-sync owns on a client, including the ones this client does not use
   * (value `""`): switching a workload's authentication method clears the old method's attributes.
   */
  attributes: Record<string, string>;
  defaultClientScopes: string[];
  optionalClientScopes: string[];
  mappers: DesiredMapper[];
}

export interface DesiredState {
  realm: DesiredRealm;
  /** The configured issuer; every cluster must publish it. */
  issuer: string;
  keys: DesiredKey[];
  clientScopes: DesiredClientScope[];
  identityProviders: DesiredIdentityProvider[];
  clients: DesiredClient[];
  /** Present when the state uses the Keycloak extension (some issuer is in `kubernetesIssuers`). */
  extension?: RequiredExtension;
}

/**
 * The fields every workload client has, whatever the config says: a confidential service-account
 * client with every browser flow off (the grants Keycloak switches on by attribute: `grants.ts`).
 * The desired shape (diff) and the representation sent to Keycloak (write) both use this one list,
 * so they cannot drift apart.
 */
export const FIXED_CLIENT_FIELDS = {
  enabled: true,
  protocol: "openid-connect",
  publicClient: false,
  bearerOnly: false,
  consentRequired: false,
  serviceAccountsEnabled: true,
  standardFlowEnabled: false,
  implicitFlowEnabled: false,
  directAccessGrantsEnabled: false,
  /** Authorization services: the UMA ticket grant and a resource server. */
  authorizationServicesEnabled: false,
  fullScopeAllowed: false,
} as const;
