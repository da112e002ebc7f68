/**
 * `npm run build`: bundles both programs, `dist/cloud-broker.mjs` and `dist/realm-sync.mjs` (each
 * with its source map and the licences of the bundled packages), and prints each artifact's size
 * and its largest inputs.
 *
 *   npm run build                 # both programs (the package's bin entries)
 *   npm run build -- --entry x.ts --outfile dist/x.mjs   # any other entry (used by the tests)
 */
import { chmodSync, existsSync, statSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { bundleOptions, PROGRAMS } from "./bundle-options.ts";
import { largestInputs } from "./bundle-report.ts";
import { licencesText } from "./licences.ts";

const { values } = parseArgs({
  options: {
    entry: { type: "string" },
    outfile: { type: "string" },
    quiet: { type: "boolean", default: false },
  },
});
if ((values.entry === undefined) !== (values.outfile === undefined)) {
  console.error("build: --entry and --outfile go together");
  process.exit(2);
}
const targets = values.entry !== undefined && values.outfile !== undefined ? [{ entry: values.entry, artifact: values.outfile }] : PROGRAMS;

for (const { entry, artifact } of targets) {
  if (!existsSync(resolve(entry))) {
    console.error(
      `build: the entry module ${entry} does not exist; nothing to bundle (the programs' entry points are ${PROGRAMS.map((p) => p.entry).join(", ")})`,
    );
    process.exit(2);
  }
  const outfile = resolve(artifact);
  const started = Date.now();
  const result = await build(bundleOptions(resolve(entry), outfile));
  // Executable, so an installed package's bin links run it directly (the hashbang names node).
  chmodSync(outfile, 0o755);
  writeFileSync(`${outfile}.LEGAL.txt`, licencesText(result.metafile, process.cwd()));
  console.log(`build: ${artifact} ${(statSync(outfile).size / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
  if (!values.quiet) {
    for (const { input, bytes } of largestInputs(result.metafile, 8))
      console.log(`  ${(bytes / 1024).toFixed(0).padStart(6)} KiB  ${input}`);
  }
}
