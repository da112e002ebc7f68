/**
 * The file-system side of `export-trust`: make a directory hold exactly the rendered files.
 * Rewrites only files whose bytes change; removes `.json` files under the directories the export
 * owns that are no longer produced; never touches anything else.
 *
 * @example await syncTrustDir("/tmp/trust", renderTrustFiles(config)) // tests: feed the cloud emulators
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { byString } from "./canonical-json.ts";
import { OWNED_DIRS, type TrustFile } from "./export.ts";

export interface TrustDifference {
  path: string;
  kind: "missing" | "changed" | "stale";
}

async function listJson(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".json"))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"));
}

/** How `dir` differs from `files`, sorted by path. */
export async function diffTrustDir(dir: string, files: readonly TrustFile[]): Promise<TrustDifference[]> {
  const diffs: TrustDifference[] = [];
  for (const f of files) {
    const current = await readFile(join(dir, f.path), "utf8").catch(() => undefined);
    if (current === undefined) diffs.push({ path: f.path, kind: "missing" });
    else if (current !== f.text) diffs.push({ path: f.path, kind: "changed" });
  }
  const wanted = new Set(files.map((f) => f.path));
  for (const owned of OWNED_DIRS) {
    for (const path of await listJson(dir, owned)) if (!wanted.has(path)) diffs.push({ path, kind: "stale" });
  }
  return diffs.sort((a, b) => byString(a.path, b.path));
}

/** Brings `dir` to exactly `files`; returns what it changed. */
export async function syncTrustDir(dir: string, files: readonly TrustFile[]): Promise<TrustDifference[]> {
  const diffs = await diffTrustDir(dir, files);
  const byPath = new Map(files.map((f) => [f.path, f.text]));
  for (const d of diffs) {
    const target = join(dir, d.path);
    const text = byPath.get(d.path);
    if (text === undefined) {
      await rm(target);
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, text);
    }
  }
  return diffs;
}
