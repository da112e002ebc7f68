import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { cacheDir, repoRoot } from "../paths.ts";
import { withDirLock } from "./dir-lock.ts";

/** The Maven project of the Keycloak extension (Java SPI providers installed into every cluster). */
export const EXTENSION_DIR = join(repoRoot, "deploy", "keycloak", "extension");
/** What `mvn package` writes into target/ (`finalName` of the pom; the image's Dockerfile copies it too). */
const BUILT_JAR = "keycloak-cloud-broker-extension.jar";

export interface ExtensionJar {
  /** The built jar, cached outside the repo by the hash of the extension's sources. */
  jar: string;
  /** sha256 (hex, 16) of the Maven project's sources: pom.xml and src/. */
  sourceHash: string;
  /** The JUnit summary of the build that made the jar (Maven Surefire's closing line). */
  junit: string;
  /** Whether this call ran Maven. */
  built: boolean;
}

type Log = (line: string) => void;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)]))
    .sort();
}

/** Hash of everything Maven builds the jar from, so an edit to any source rebuilds it. */
export function extensionSourceHash(dir = EXTENSION_DIR): string {
  const hash = createHash("sha256");
  for (const file of [join(dir, "pom.xml"), ...files(join(dir, "src"))]) {
    hash.update(relative(dir, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

function surefireSummary(output: string): string {
  const lines = output.split("\n").filter((line) => /Tests run: \d+, Failures: \d+, Errors: \d+, Skipped: \d+/.test(line));
  const total = lines
    .at(-1)
    ?.replace(/^\[\w+\]\s*/, "")
    .trim();
  if (!total) throw new Error("the extension's Maven build ran no JUnit test");
  return total;
}

/**
 * Builds the extension jar with Maven (dependencies into ~/.m2), running its JUnit tests, unless a jar
 * built from the same sources is cached under ~/.cache/keycloak-cloud-broker/extension.
 */
export async function ensureExtensionJar(log: Log = () => {}): Promise<ExtensionJar> {
  const sourceHash = extensionSourceHash();
  const root = join(cacheDir(), "extension");
  const jar = join(root, `keycloak-cloud-broker-extension-${sourceHash}.jar`);
  const summaryFile = `${jar}.junit.txt`;
  mkdirSync(root, { recursive: true });
  if (existsSync(jar) && existsSync(summaryFile)) return { jar, sourceHash, junit: readFileSync(summaryFile, "utf8").trim(), built: false };

  return withDirLock(join(root, ".lock"), () => {
    if (existsSync(jar) && existsSync(summaryFile))
      return { jar, sourceHash, junit: readFileSync(summaryFile, "utf8").trim(), built: false };
    log(`building the Keycloak extension (mvn package, JUnit tests included) from ${relative(repoRoot, EXTENSION_DIR)} …`);
    const started = Date.now();
    const result = spawnSync("mvn", ["-B", "--no-transfer-progress", "package"], {
      cwd: EXTENSION_DIR,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    if (result.status !== 0) {
      const tail = output
        .split("\n")
        .filter((line) => !line.startsWith("[INFO] Download"))
        .slice(-40)
        .join("\n");
      throw new Error(`mvn package in ${relative(repoRoot, EXTENSION_DIR)} failed (exit ${result.status ?? result.signal})\n${tail}`);
    }
    const junit = surefireSummary(output);
    const built = join(EXTENSION_DIR, "target", BUILT_JAR);
    if (!existsSync(built)) throw new Error(`mvn package left no ${BUILT_JAR} in ${relative(repoRoot, EXTENSION_DIR)}/target`);
    const staging = `${jar}.tmp-${process.pid}`;
    copyFileSync(built, staging);
    writeFileSync(summaryFile, `${junit}\n`);
    renameSync(staging, jar);
    log(`extension built in ${((Date.now() - started) / 1000).toFixed(1)} s (${statSync(jar).size} bytes; JUnit: ${junit})`);
    return { jar, sourceHash, junit, built: true };
  });
}
