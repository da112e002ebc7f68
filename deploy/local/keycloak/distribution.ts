import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { cacheDir, mavenRepoDir } from "../paths.ts";
import { withDirLock } from "./dir-lock.ts";
import { ensureExtensionJar, type ExtensionJar } from "./extension.ts";

/** The newest 26.x on Maven Central that runs here (OpenJDK 17). Override with KCB_KEYCLOAK_VERSION. */
export const KEYCLOAK_VERSION = process.env.KCB_KEYCLOAK_VERSION ?? "26.7.3";

/**
 * Build-time options baked into the cached server image (`kc.sh build`), so every instance starts
 * with `--optimized`. `cache=local`: the two clusters are independent servers, never one Infinispan
 * cluster. The features are the ones the trust domain needs (federated client authentication with
 * Kubernetes service-account assertions).
 */
export const BUILD_OPTIONS = [
  "--features=client-auth-federated,kubernetes-service-accounts",
  "--health-enabled=true",
  "--cache=local",
  "--db=dev-file",
  // The keystore and key passwords of the realm's signing keys are `${vault.<name>}` references,
  // read from files next to the keystore (the files vault), never held by realm-sync.
  "--vault=file",
];

export interface Distribution {
  version: string;
  /** The built server image: copy it per instance (hard links), never start it in place. */
  home: string;
  /** Whether this call downloaded the archive (false when ~/.m2 already held it). */
  downloaded: boolean;
  /** Whether this call ran `kc.sh build`. */
  built: boolean;
  /** The project's Keycloak extension, installed into `providers/` before `kc.sh build`. */
  extension: ExtensionJar;
}

type Log = (line: string) => void;

function archivePath(version: string): string {
  return join(mavenRepoDir(), "org", "keycloak", "keycloak-quarkus-dist", version, `keycloak-quarkus-dist-${version}.tar.gz`);
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const result = spawnSync(cmd, args, { ...opts, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (result.status !== 0) {
    const tail = `${result.stdout ?? ""}${result.stderr ?? ""}`.split("\n").slice(-20).join("\n");
    throw new Error(`${cmd} ${args.join(" ")} failed (exit ${result.status ?? result.signal})\n${tail}`);
  }
}

/**
 * Fetches `org.keycloak:keycloak-quarkus-dist` from Maven Central into the local Maven repository
 * (once), extracts it under the cache dir, installs the project's extension jar (built by Maven, see
 * extension.ts) and builds it with {@link BUILD_OPTIONS} (once per option set and jar).
 */
export async function ensureDistribution(log: Log = () => {}, version = KEYCLOAK_VERSION): Promise<Distribution> {
  const extension = await ensureExtensionJar(log);
  const jarHash = createHash("sha256").update(readFileSync(extension.jar)).digest("hex");
  const optionsHash = createHash("sha256").update(BUILD_OPTIONS.join("\n")).update(`\nextension ${jarHash}`).digest("hex").slice(0, 12);
  const root = join(cacheDir(), "keycloak");
  const home = join(root, `keycloak-${version}-${optionsHash}`);
  const marker = join(home, ".kcb-built");
  mkdirSync(root, { recursive: true });

  return withDirLock(join(root, `.lock-${version}`), () => {
    const archive = archivePath(version);
    let downloaded = false;
    if (!existsSync(archive)) {
      log(`downloading org.keycloak:keycloak-quarkus-dist:${version} from Maven Central (~170 MB) …`);
      const started = Date.now();
      run("mvn", ["-B", "-q", "dependency:get", `-Dartifact=org.keycloak:keycloak-quarkus-dist:${version}:tar.gz`, "-Dtransitive=false"]);
      log(`downloaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      downloaded = true;
    }
    if (existsSync(marker)) return { version, home, downloaded, built: false, extension };

    log(`extracting and building Keycloak ${version} (${BUILD_OPTIONS.join(" ")}) …`);
    const started = Date.now();
    const staging = mkdtempSync(join(root, ".staging-"));
    try {
      run("tar", ["xzf", archive, "-C", staging]);
      const extracted = join(staging, `keycloak-${version}`);
      // Before `kc.sh build`: Quarkus augments the server with the providers it finds there.
      copyFileSync(extension.jar, join(extracted, "providers", basename(extension.jar)));
      run(join(extracted, "bin", "kc.sh"), ["build", ...BUILD_OPTIONS], { env: { ...process.env, JAVA_OPTS_KC_HEAP: "-Xms64m -Xmx512m" } });
      writeFileSync(join(extracted, ".kcb-built"), `${new Date().toISOString()}\n${BUILD_OPTIONS.join("\n")}\nextension ${jarHash}\n`);
      rmSync(home, { recursive: true, force: true });
      renameSync(extracted, home);
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    log(`kc.sh build done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { version, home, downloaded, built: true, extension };
  });
}
