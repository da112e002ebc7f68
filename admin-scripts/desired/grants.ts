/**
 * The grants Keycloak 26.7 switches on per client with a client attribute, besides the
 * representation's own booleans (`standardFlowEnabled`, `implicitFlowEnabled`,
 * `directAccessGrantsEnabled`, `authorizationServicesEnabled`: see `FIXED_CLIENT_FIELDS`). A managed
 * client has every one of them off; realm-sync writes each as `"false"`, and Keycloak reads each
 * with `Boolean.parseBoolean`, so only a value that reads as true counts as on (an absent attribute
 * is off). Sources (tag 26.7.3): `OAuth2DeviceConfig`, `CibaConfig`, `OIDCConfigAttributes`.
 */
export const GRANT_ATTRIBUTES = {
  /** OAuth 2.0 device authorization grant (RFC 8628). */
  device: "oauth2.device.authorization.grant.enabled",
  /** Client-initiated backchannel authentication (OpenID CIBA). */
  ciba: "oidc.ciba.grant.enabled",
  /** Standard token exchange (RFC 8693, Keycloak's token exchange v2). */
  tokenExchange: "standard.token.exchange.enabled",
  /** JWT authorization grant (RFC 7523 §2.1): a JWT from an identity provider traded for a token. */
  jwtAuthorizationGrant: "oauth2.jwt.authorization.grant.enabled",
  /** External tokens accepted from an identity provider (`external.token.idp`). */
  externalToken: "external.token.enabled",
} as const;

/** Every grant attribute with the value realm-sync writes: off. */
export const GRANTS_OFF: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(GRANT_ATTRIBUTES).map((key) => [key, "false"]),
);

/** Whether Keycloak reads an attribute value as on (`Boolean.parseBoolean`: "true" in any case). */
export function readsAsOn(value: string | undefined): boolean {
  return value?.toLowerCase() === "true";
}

/**
 * The legacy token exchange (feature `token-exchange`, v1) grants exchanges through per-client
 * permissions realm-sync does not compare: a cluster running it is flagged (admin server info name).
 */
export const LEGACY_TOKEN_EXCHANGE_FEATURE = "TOKEN_EXCHANGE";
