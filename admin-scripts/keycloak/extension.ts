/**
 * Reads what a cluster runs (admin server info): the providers installed, to refuse a cluster
 * without the Keycloak extension the desired state needs (or of another version), and the features
 * enabled, which the diff judges (`diff/foreign.ts`).
 */
import { extensionProblem, type ServerProviders } from "../diff/extension.ts";
import type { LiveServer } from "../diff/live.ts";
import type { RequiredExtension } from "../desired/types.ts";
import { RealmSyncError } from "../errors.ts";
import { clusterError } from "./errors.ts";
import type { ClusterSession } from "./session.ts";

export interface ServerInfo extends LiveServer {
  providers: ServerProviders;
}

export async function readServerInfo(session: ClusterSession): Promise<ServerInfo> {
  try {
    const info = (await session.admin.serverInfo.find()) as {
      providers?: ServerProviders;
      features?: Array<{ name?: string; enabled?: boolean }>;
    };
    return {
      providers: info.providers ?? {},
      enabledFeatures: (info.features ?? []).flatMap((f) => (f.enabled && f.name ? [f.name] : [])),
    };
  } catch (error) {
    throw clusterError(session.name, "reading the server info", error);
  }
}

/** Throws EXTENSION_MISSING / EXTENSION_VERSION_MISMATCH naming the cluster. */
export function assertExtension(session: ClusterSession, required: RequiredExtension, info: ServerInfo): void {
  const problem = extensionProblem(session.name, required, info.providers);
  if (problem) throw new RealmSyncError(problem.code, problem.message, { cluster: session.name });
}
