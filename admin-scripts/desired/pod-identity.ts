/**
 * The Keycloak extension's provider and mapper for one declared Kubernetes issuer, as realm-sync
 * writes them (deploy/keycloak/extension/README.md). Every mapper config key is written, even when
 * it has its default, so a hand edit shows as drift.
 */
import pkg from "../../package.json" with { type: "json" };
import {
  MANAGED_ATTRIBUTE,
  MANAGED_VALUE,
  POD_IDENTITY_MAPPER_ID,
  POD_IDENTITY_PROVIDER_ID,
} from "../../realm-config/model/conventions.ts";
import type { KubernetesIssuer } from "../../realm-config/model/schema.ts";
import { kubernetesIdpAlias, POD_IDENTITY_MAPPER } from "./names.ts";
import type { DesiredIdentityProvider, DesiredMapper, RequiredExtension } from "./types.ts";

/** The extension version realm-sync works with: the repository's version (the extension's pom.xml carries the same). */
export const EXTENSION_VERSION: string = pkg.version;

export const REQUIRED_EXTENSION: RequiredExtension = {
  version: EXTENSION_VERSION,
  providers: [
    { spi: "identity_provider", id: POD_IDENTITY_PROVIDER_ID },
    { spi: "protocol-mapper", id: POD_IDENTITY_MAPPER_ID },
  ],
};

export function podIdentityProvider(k: KubernetesIssuer): DesiredIdentityProvider {
  return {
    alias: kubernetesIdpAlias(k.issuer),
    providerId: POD_IDENTITY_PROVIDER_ID,
    displayName: `Kubernetes ${k.clusterName} (${k.issuer})`,
    config: {
      [MANAGED_ATTRIBUTE]: MANAGED_VALUE,
      issuer: k.issuer,
      clusterName: k.clusterName,
      requirePodBinding: String(k.requirePodBinding),
    },
  };
}

/** The mapper on a workload client that authenticates through issuer `k`: pod values as session tags (and plain claims). */
export function podIdentityMapper(k: KubernetesIssuer): DesiredMapper {
  const t = k.sessionTags;
  return {
    name: POD_IDENTITY_MAPPER,
    protocolMapper: POD_IDENTITY_MAPPER_ID,
    config: {
      "tag.namespace": t.namespace ?? "",
      "tag.service-account": t.serviceAccount ?? "",
      "tag.pod-name": t.podName ?? "",
      "tag.pod-uid": t.podUid ?? "",
      "tag.cluster-name": t.clusterName ?? "",
      "transitive.tag.keys": [...k.transitiveTagKeys].sort().join(","),
      "plain.claims": String(k.plainClaims),
      "access.token.claim": "true",
      "id.token.claim": "false",
      // Keycloak stores userinfo.token.claim=false for this mapper when it is absent: say it, or every plan shows a change.
      "userinfo.token.claim": "false",
      "introspection.token.claim": "false",
    },
  };
}
