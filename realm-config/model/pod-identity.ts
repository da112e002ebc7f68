/**
 * Per-pod identity, as the trust domain declares it for a Kubernetes issuer: which pod values become
 * AWS session tags under which keys. Shared by realm-sync (the Keycloak provider and mapper it
 * creates) and export-trust (the namespace lock).
 */
import type { KubernetesIssuer, PodSessionTags } from "./schema.ts";

/** The pod values in the order the tags are listed. */
export const POD_VALUES = ["namespace", "serviceAccount", "podName", "podUid", "clusterName"] as const satisfies ReadonlyArray<
  keyof PodSessionTags
>;

/** The session tag keys an issuer's pods get, in {@link POD_VALUES} order. */
export function podTagKeys(issuer: KubernetesIssuer): string[] {
  return POD_VALUES.flatMap((v) => issuer.sessionTags[v] ?? []);
}

/** `payments` of `system:serviceaccount:payments:payments-api` (the schema has checked the form). */
export function serviceAccountNamespace(serviceAccount: string): string {
  return serviceAccount.split(":")[2] ?? "";
}

/** `payments-api` of `system:serviceaccount:payments:payments-api`. */
export function serviceAccountName(serviceAccount: string): string {
  return serviceAccount.split(":")[3] ?? "";
}
