/**
 * A signing key as Keycloak's `java-keystore` key provider is configured: where every server finds
 * the keystore, the key's alias and a vault reference for its password. Never the key or the
 * password: the servers resolve both themselves.
 */
import type { DesiredKey } from "./types.ts";

/** Keycloak's vault reference: the server resolves it; realm-sync never sees the value. */
export function vaultRef(name: string): string {
  return `\${vault.${name}}`;
}

/** The `java-keystore` provider's config for one key: where the server finds it, never the key or its password. */
export function keyConfig(k: DesiredKey): Record<string, string> {
  return {
    enabled: "true",
    active: String(k.active),
    priority: String(k.priority),
    algorithm: "RS256",
    keyUse: "sig",
    keystore: k.keystore.file,
    keystoreType: "PKCS12",
    keyAlias: k.keystore.alias,
    keystorePassword: vaultRef(k.keystore.passwordVault),
    keyPassword: vaultRef(k.keystore.passwordVault),
    // Without it Keycloak gives the key a random kid, different on every cluster.
    kid: k.kid,
  };
}
