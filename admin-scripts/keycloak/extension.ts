/**
 * Reads which providers a cluster has installed (admin server info) and refuses it when the Keycloak
 * extension the desired state needs is missing or of another version.
 */
import { extensionProblem, type ServerProviders } from "../diff/extension.ts";
import type { RequiredExtension } from "../desired/types.ts";
import { RealmSyncError } from "../errors.ts";
import { clusterError } from "./errors.ts";
import type { ClusterSession } from "./session.ts";

export async function readServerProviders(session: ClusterSession): Promise<ServerProviders> {
  try {
    const info = (await session.admin.serverInfo.find()) as { providers?: ServerProviders };
    return info.providers ?? {};
  } catch (error) {
    throw clusterError(session.name, "reading the server info", error);
  }
}

/** Throws EXTENSION_MISSING / EXTENSION_VERSION_MISMATCH naming the cluster. */
export async function assertExtension(session: ClusterSession, required: RequiredExtension): Promise<void> {
  const problem = extensionProblem(session.name, required, await readServerProviders(session));
  if (problem) throw new RealmSyncError(problem.code, problem.message, { cluster: session.name });
}
