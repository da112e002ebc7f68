/**
 * `realm-sync export-trust <config> --out <dir> [--check]`: writes the cloud side of the trust
 * (layout in `trust/artifacts.ts`). Rewrites only files whose bytes change and removes `.json`
 * files it owns that the config no longer produces. `--check` writes nothing and exits 3 when the
 * directory differs, so CI can insist the committed export matches the config.
 */
import { resolve } from "node:path";
import { readTrustDomainFile, type ExportTrustOptions } from "../command.ts";
import { RealmSyncError, type Outcome } from "../errors.ts";
import { renderTrustFiles } from "../trust/export.ts";
import { diffTrustDir, syncTrustDir, type TrustDifference } from "../trust/write.ts";

const VERB: Record<TrustDifference["kind"], string> = { missing: "created", changed: "updated", stale: "removed" };

export async function run(opts: ExportTrustOptions): Promise<Outcome> {
  const { config } = await readTrustDomainFile(opts, { requireAdminUrls: false });
  const files = renderTrustFiles(config);
  const out = resolve(opts.cwd, opts.out);

  if (opts.check) {
    const diffs = await diffTrustDir(out, files);
    if (!diffs.length) {
      opts.stdout.write(`${opts.out}: up to date (${files.length} files)\n`);
      return "OK";
    }
    for (const d of diffs) opts.stdout.write(`  ${d.kind.padEnd(7)} ${d.path}\n`);
    opts.stdout.write(
      `${opts.out}: ${diffs.length} file(s) differ from ${opts.config}; run: npm run realm-sync -- export-trust ${opts.config} --out ${opts.out}\n`,
    );
    return "CHANGES_PENDING";
  }

  let diffs: TrustDifference[];
  try {
    diffs = await syncTrustDir(out, files);
  } catch (cause) {
    throw new RealmSyncError("IO_FAILED", `cannot write ${opts.out} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  }
  if (opts.verbose) for (const d of diffs) opts.stdout.write(`  ${VERB[d.kind]} ${d.path}\n`);
  const removed = diffs.filter((d) => d.kind === "stale").length;
  const written = diffs.length - removed;
  opts.stdout.write(`${opts.out}: ${files.length} files (${written} written, ${removed} removed, ${files.length - written} unchanged)\n`);
  return "OK";
}
