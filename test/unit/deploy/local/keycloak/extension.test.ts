import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseCopy, parseDockerfile } from "../../../../../deploy/build/dockerfile.ts";
import { EXTENSION_DIR, extensionSourceHash } from "../../../../../deploy/local/keycloak/extension.ts";
import { repoRoot } from "../../../../../deploy/local/paths.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function copyOfExtension(): string {
  const dir = mkdtempSync(join(tmpdir(), "kcb-extension-"));
  dirs.push(dir);
  cpSync(join(EXTENSION_DIR, "pom.xml"), join(dir, "pom.xml"));
  cpSync(join(EXTENSION_DIR, "src"), join(dir, "src"), { recursive: true });
  return dir;
}

describe("Keycloak extension build", () => {
  it("has the project's version, which both providers report to realm-sync", () => {
    const pom = readFileSync(join(EXTENSION_DIR, "pom.xml"), "utf8");
    const own = /<artifactId>keycloak-cloud-broker-extension<\/artifactId>\s*<version>([^<]+)<\/version>/.exec(pom)?.[1];
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string };
    expect(own).toBe(pkg.version);
  });

  it("builds against the Keycloak version the harness runs", async () => {
    const { KEYCLOAK_VERSION } = await import("../../../../../deploy/local/keycloak/distribution.ts");
    const pom = readFileSync(join(EXTENSION_DIR, "pom.xml"), "utf8");
    expect(/<keycloak\.version>([^<]+)<\/keycloak\.version>/.exec(pom)?.[1]).toBe(KEYCLOAK_VERSION);
  });

  it("is what the Keycloak image builds and installs before kc.sh build, for the same Keycloak version", () => {
    const pom = readFileSync(join(EXTENSION_DIR, "pom.xml"), "utf8");
    const file = parseDockerfile(readFileSync(join(repoRoot, "deploy", "docker", "keycloak.Dockerfile"), "utf8"));
    const [extension, build] = file.stages;
    expect(extension?.instructions.filter((i) => i.keyword === "RUN").map((i) => i.args)).toEqual([
      "--mount=type=cache,target=/root/.m2 mvn -B --no-transfer-progress package",
    ]);
    const jar = `/src/target/${/<finalName>([^<]+)<\/finalName>/.exec(pom)?.[1]}.jar`;
    const steps =
      build?.instructions.map((i) => (i.keyword === "COPY" ? { copy: parseCopy(i.args) } : { keyword: i.keyword, args: i.args })) ?? [];
    expect(steps[0]).toEqual({ copy: { from: "extension", chown: "1000:0", sources: [jar], dest: "/opt/keycloak/providers/" } });
    expect(steps[1]).toMatchObject({ keyword: "RUN", args: expect.stringMatching(/^\/opt\/keycloak\/bin\/kc\.sh build /) as unknown });
    const keycloakVersion = /<keycloak\.version>([^<]+)<\/keycloak\.version>/.exec(pom)?.[1];
    expect(build?.from).toBe("${KEYCLOAK_IMAGE}@${KEYCLOAK_DIGEST}");
    expect(file.globalArgs.get("KEYCLOAK_IMAGE")).toBe(`quay.io/keycloak/keycloak:${keycloakVersion}`);
  });

  it("is rebuilt when any source changes: the cache key hashes pom.xml and every file under src/", () => {
    const dir = copyOfExtension();
    const before = extensionSourceHash(dir);
    expect(extensionSourceHash(dir)).toBe(before);
    writeFileSync(join(dir, "src", "main", "resources", "extra.txt"), "x");
    const withFile = extensionSourceHash(dir);
    expect(withFile).not.toBe(before);
    writeFileSync(join(dir, "pom.xml"), `${readFileSync(join(dir, "pom.xml"), "utf8")}\n`);
    expect(extensionSourceHash(dir)).not.toBe(withFile);
  });
});
