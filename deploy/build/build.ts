/**
 * `npm run build`: bundles the broker into `dist/cloud-broker.mjs` (plus its source map and the
 * licences of the bundled packages) and prints the artifact's size and its largest inputs.
 *
 *   npm run build                 # the broker
 *   npm run build -- --entry x.ts --outfile dist/x.mjs   # any other entry (used by the tests)
 */
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { BROKER_ARTIFACT, BROKER_ENTRY, bundleOptions } from "./bundle-options.ts";
import { largestInputs } from "./bundle-report.ts";

const { values } = parseArgs({
  options: {
    entry: { type: "string", default: BROKER_ENTRY },
    outfile: { type: "string", default: BROKER_ARTIFACT },
    quiet: { type: "boolean", default: false },
  },
});
const entry = resolve(values.entry);
const outfile = resolve(values.outfile);

if (!existsSync(entry)) {
  console.error(`build: the entry module ${values.entry} does not exist; nothing to bundle (the broker's entry point is ${BROKER_ENTRY})`);
  process.exit(2);
}

const started = Date.now();
const result = await build(bundleOptions(entry, outfile));
const bytes = statSync(outfile).size;
console.log(`build: ${values.outfile} ${(bytes / 1024).toFixed(0)} KiB in ${Date.now() - started} ms`);
if (!values.quiet) {
  for (const { input, bytes: b } of largestInputs(result.metafile, 8)) console.log(`  ${(b / 1024).toFixed(0).padStart(6)} KiB  ${input}`);
}
