/**
 * `realm-sync export-trust <config> --out <dir> [--check]`: writes the cloud side of the trust
 * (layout in `trust/artifacts.ts`). Rewrites only files whose bytes change and removes `.json`
 * files it owns that the config no longer produces. `--check` writes nothing and exits 3 when the
 * directory differs, so CI can insist the committed export matches the config.
 */
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative, resolve, sep } from "node:path";
import { loadConfig, type ExportTrustOptions } from "../command.ts";
import { EXIT, RealmSyncError } from "../errors.ts";
import { OWNED_DIRS, renderTrustFiles } from "../trust/export.ts";

async function listJson(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(join(root, dir), { withFileTypes: true, recursive: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join("/"));
}

interface Difference {
  path: string;
  kind: "missing" | "changed" | "stale";
}

async function compare(out: string, files: Array<{ path: string; text: string }>): Promise<Difference[]> {
  const diffs: Difference[] = [];
  for (const f of files) {
    const current = await readFile(join(out, f.path), "utf8").catch(() => undefined);
    if (current === undefined) diffs.push({ path: f.path, kind: "missing" });
    else if (current !== f.text) diffs.push({ path: f.path, kind: "changed" });
  }
  const wanted = new Set(files.map((f) => f.path));
  for (const dir of OWNED_DIRS) {
    for (const path of await listJson(out, dir)) if (!wanted.has(path)) diffs.push({ path, kind: "stale" });
  }
  return diffs.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

export async function run(opts: ExportTrustOptions): Promise<number> {
  const { config } = await loadConfig(opts, { requireAdminUrls: false });
  const files = renderTrustFiles(config);
  const out = resolve(opts.cwd, opts.out);
  const diffs = await compare(out, files);

  if (opts.check) {
    if (!diffs.length) {
      opts.stdout.write(`${opts.out}: up to date (${files.length} files)\n`);
      return EXIT.OK;
    }
    for (const d of diffs) opts.stdout.write(`  ${d.kind.padEnd(7)} ${d.path}\n`);
    opts.stdout.write(`${opts.out}: ${diffs.length} file(s) differ from ${opts.config}; run: npm run realm-sync -- export-trust ${opts.config} --out ${opts.out}\n`);
    return EXIT.DIFFERS;
  }

  const byPath = new Map(files.map((f) => [f.path, f.text]));
  try {
    for (const d of diffs) {
      const target = join(out, d.path);
      const text = byPath.get(d.path);
      if (text === undefined) {
        await rm(target);
      } else {
        await mkdir(dirname(target), { recursive: true });
        await writeFile(target, text);
      }
      if (opts.verbose) opts.stdout.write(`  ${d.kind === "stale" ? "removed" : d.kind === "missing" ? "created" : "updated"} ${d.path}\n`);
    }
  } catch (cause) {
    throw new RealmSyncError("IO_FAILED", `cannot write ${opts.out} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  }
  const changed = diffs.filter((d) => d.kind !== "stale").length;
  const removed = diffs.length - changed;
  opts.stdout.write(`${opts.out}: ${files.length} files (${changed} written, ${removed} removed, ${files.length - changed} unchanged)\n`);
  return EXIT.OK;
}
