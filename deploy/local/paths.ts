import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/**
 * Everything downloaded or generated for the local trust domain lives here, outside the repo, so a
 * fresh clone reuses it: the extracted Keycloak, the local CA, persistent demo state.
 * Override with KCB_CACHE_DIR.
 */
export function cacheDir(): string {
  return process.env.KCB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "keycloak-cloud-broker");
}

/** The local Maven repository, where `mvn dependency:get` caches the Keycloak distribution. */
export function mavenRepoDir(): string {
  return process.env.KCB_MAVEN_REPO ?? join(homedir(), ".m2", "repository");
}
