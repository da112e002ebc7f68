/**
 * The real `kustomize` for rendering deploy/k8s in tests: built once from the Go module proxy
 * (`go install`, Go is on every machine of this project) into a cache directory, never by hand.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Newest release that builds with the Go of this project's machines (1.26). */
export const KUSTOMIZE_VERSION = "v5.8.0";

/** Path of the kustomize binary under `cacheRoot`, built first if absent (about a minute, once). */
export function ensureKustomize(cacheRoot: string, log: (line: string) => void = () => {}): string {
  const dir = join(cacheRoot, "tools", `kustomize-${KUSTOMIZE_VERSION}`);
  const bin = join(dir, "kustomize");
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  log(`building kustomize ${KUSTOMIZE_VERSION} with go install (once) …`);
  const started = Date.now();
  const res = spawnSync("go", ["install", `sigs.k8s.io/kustomize/kustomize/v5@${KUSTOMIZE_VERSION}`], {
    // GOTOOLCHAIN=local: never fetch another Go; GOFLAGS cleared so a caller's -mod=vendor cannot interfere.
    env: { ...process.env, GOBIN: dir, GOTOOLCHAIN: "local", GOFLAGS: "" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (res.error) throw new Error(`kustomize: cannot run go (${res.error.message}); Go is needed to build kustomize`);
  if (res.status !== 0 || !existsSync(bin))
    throw new Error(`kustomize: go install failed (exit ${res.status ?? res.signal}):\n${res.stderr.split("\n").slice(-20).join("\n")}`);
  log(`kustomize built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return bin;
}

/** `kustomize build <dir>`: the rendered multi-document YAML. */
export function kustomizeBuild(bin: string, dir: string): string {
  const res = spawnSync(bin, ["build", dir], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (res.status !== 0) throw new Error(`kustomize build ${dir} failed (exit ${res.status ?? res.signal}):\n${res.stderr}`);
  return res.stdout;
}
