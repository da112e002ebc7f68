/**
 * Whether a cluster runs the Keycloak extension a desired state needs, judged from the providers its
 * admin server info lists (`providers[spi].providers[id].operationalInfo.version`). Pure.
 */
import type { RequiredExtension } from "../desired/types.ts";
import type { RealmSyncErrorCode } from "../errors.ts";

/** `spi → provider id → operationalInfo`, as `GET …/serverinfo` returns `providers`. */
export type ServerProviders = Record<
  string,
  { providers?: Record<string, { operationalInfo?: Record<string, string> } | undefined> } | undefined
>;

export interface ExtensionProblem {
  code: Extract<RealmSyncErrorCode, "EXTENSION_MISSING" | "EXTENSION_VERSION_MISMATCH">;
  message: string;
}

/** The first problem with the extension on `cluster`, or undefined when every required provider is there at the required version. */
export function extensionProblem(cluster: string, required: RequiredExtension, providers: ServerProviders): ExtensionProblem | undefined {
  const missing = required.providers.filter((p) => providers[p.spi]?.providers?.[p.id] === undefined);
  if (missing.length) {
    return {
      code: "EXTENSION_MISSING",
      message: `cluster ${cluster}: the Keycloak extension is not installed (no ${missing.map((p) => `${p.spi} provider "${p.id}"`).join(", ")}); install the keycloak-cloud-broker extension ${required.version} (deploy/keycloak/extension/README.md)`,
    };
  }
  for (const p of required.providers) {
    const version = providers[p.spi]?.providers?.[p.id]?.operationalInfo?.version;
    if (version !== required.version) {
      return {
        code: "EXTENSION_VERSION_MISMATCH",
        message: `cluster ${cluster}: the Keycloak extension's ${p.spi} provider "${p.id}" is version ${version ?? "(unreported)"}, realm-sync needs ${required.version}; install the extension of this realm-sync's version (deploy/keycloak/extension/README.md)`,
      };
    }
  }
  return undefined;
}
