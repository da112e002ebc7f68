#!/usr/bin/env node
// Installs everything the project needs, from its own files, before tests or the demo run: the
// Node the production image ships when the machine's is another major (image-node.mjs), npm
// packages (npm ci with that Node, when the lock changed) and the Python venv used by the
// cross-checks (pip, when requirements changed). The Keycloak distribution is fetched by the
// harness itself.
// Plain Node with no dependencies, because it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { envWithImageNode } from "./image-node.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

function hashOf(file) {
  return createHash("sha256").update(readFileSync(file)).digest("hex");
}

const env = envWithImageNode();

function run(cmd, args, what) {
  console.error(`setup: ${what} …`);
  const started = Date.now();
  const result = spawnSync(cmd, args, { cwd: root, env, stdio: ["ignore", "inherit", "inherit"] });
  if (result.status !== 0) {
    console.error(`setup: ${what} failed (${cmd} exited with ${result.status ?? result.signal})`);
    process.exit(1);
  }
  console.error(`setup: ${what} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** Runs `install` unless the marker file records the current hash of `source`. */
function ensure(source, marker, what, install) {
  const want = hashOf(join(root, source));
  const markerPath = join(root, marker);
  if (existsSync(markerPath) && readFileSync(markerPath, "utf8") === want) return;
  install();
  writeFileSync(markerPath, want);
}

ensure("package-lock.json", "node_modules/.kcb-lock-hash", "npm ci", () =>
  run("npm", ["ci", "--no-audit", "--no-fund"], "installing npm packages (npm ci)"),
);

const requirements = "test/python/requirements.txt";
if (existsSync(join(root, requirements))) {
  ensure(requirements, ".venv/.kcb-requirements-hash", "python venv", () => {
    if (!existsSync(join(root, ".venv", "bin", "python"))) {
      run("python3", ["-m", "venv", ".venv"], "creating the Python venv (.venv)");
    }
    run(
      join(root, ".venv", "bin", "pip"),
      ["install", "--quiet", "--disable-pip-version-check", "-r", requirements],
      "installing Python packages (pip)",
    );
  });
}
