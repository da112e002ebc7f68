/**
 * Names realm-sync gives the things it creates inside a realm, besides the shared conventions in
 * `model/conventions.ts`.
 */
import { createHash } from "node:crypto";

/** Clients, scopes and providers whose name starts with this are realm-sync's own; workloads may not use it. */
export const RESERVED_PREFIX = "kcb-";

/** The key provider realm-sync configures: the server loads the key from its own keystore file. In a managed realm, every key provider of this type is realm-sync's. */
export const KEYSTORE_PROVIDER = "java-keystore";

/** The client whose existence is apply's lock on a cluster (creating a client with a taken clientId is refused atomically). */
export const LOCK_CLIENT_ID = "kcb-realm-sync-lock";

/** Key providers Keycloak generates itself, with a different key on every cluster: removed from a managed realm. */
export const GENERATED_ASYMMETRIC_KEY_PROVIDERS: readonly string[] = [
  "rsa-generated",
  "rsa-enc-generated",
  "ecdsa-generated",
  "ecdh-generated",
  "eddsa-generated",
];

/** Priority of the active key (signs) and of passive keys (only published). */
export const ACTIVE_KEY_PRIORITY = 1000;
export const PASSIVE_KEY_PRIORITY = 100;

/** Mapper names on workload clients and the cloud scopes. */
export const SUB_MAPPER = "kcb-sub";
export const SESSION_TAGS_MAPPER = "kcb-aws-session-tags";
export const AUDIENCE_MAPPER = "kcb-audience";
export const SOURCE_IDENTITY_MAPPER = "kcb-aws-source-identity";
/** The Keycloak extension's mapper on Kubernetes workload clients: the pod's identity as session tags. */
export const POD_IDENTITY_MAPPER = "kcb-pod-identity";

/** Alias of the Kubernetes identity provider for one service-account issuer (Keycloak wants one provider per issuer). */
export function kubernetesIdpAlias(issuer: string): string {
  return `kcb-k8s-${createHash("sha256").update(issuer).digest("hex").slice(0, 12)}`;
}
