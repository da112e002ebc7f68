/**
 * How the two programs are bundled: one ES module each with every npm dependency inside, so the
 * runtime image and an installed package need neither `node_modules` nor tsx. They are the
 * package's executables (`bin` in package.json).
 */
import type { BuildOptions } from "esbuild";

/** The broker's entry module (argv → command), relative to the repository root. */
export const BROKER_ENTRY = "broker/main.ts";
/** The bundled broker, relative to the repository root. */
export const BROKER_ARTIFACT = "dist/cloud-broker.mjs";
/** realm-sync's entry module, relative to the repository root. */
export const REALM_SYNC_ENTRY = "admin-scripts/main.ts";
/** The bundled realm-sync, relative to the repository root. */
export const REALM_SYNC_ARTIFACT = "dist/realm-sync.mjs";

/** Every program the package ships: its `bin` name, entry module and bundle. */
export const PROGRAMS = [
  { name: "cloud-broker", entry: BROKER_ENTRY, artifact: BROKER_ARTIFACT },
  { name: "realm-sync", entry: REALM_SYNC_ENTRY, artifact: REALM_SYNC_ARTIFACT },
] as const;

/**
 * Bundled CommonJS dependencies (yaml's dist) call `require()` for Node
 * built-ins and may read `__filename`/`__dirname`; an ES module has none of them. The banner
 * defines `require` and two privately named paths; `define` points the free (global) uses of
 * `__filename`/`__dirname` at those, leaving modules that declare their own (e.g. `open`) alone.
 * https://esbuild.github.io/api/#banner, https://esbuild.github.io/api/#define
 */
// No hashbang here: esbuild keeps the entry module's own (broker/main.ts, admin-scripts/main.ts) on the first line.
const ESM_REQUIRE_SHIM = [
  'import { createRequire as __kcbCreateRequire } from "node:module";',
  'import { fileURLToPath as __kcbFileURLToPath } from "node:url";',
  'import { dirname as __kcbDirname } from "node:path";',
  "const require = __kcbCreateRequire(import.meta.url);",
  "const __kcbFilename = __kcbFileURLToPath(import.meta.url);",
  "const __kcbDirnameValue = __kcbDirname(__kcbFilename);",
].join("\n");

/** esbuild options for `entry` → `outfile`, both absolute or relative to `cwd`. */
export function bundleOptions(entry: string, outfile: string): BuildOptions & { metafile: true } {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Keep names readable in stack traces; whitespace and syntax minification give most of the size win.
    minifyWhitespace: true,
    minifySyntax: true,
    keepNames: true,
    sourcemap: "linked",
    // Licence texts beside the bundle: build.ts writes `<bundle>.LEGAL.txt` from the bundled packages.
    legalComments: "none",
    banner: { js: ESM_REQUIRE_SHIM },
    define: { "process.env.NODE_ENV": '"production"', __filename: "__kcbFilename", __dirname: "__kcbDirnameValue" },
    metafile: true,
    logLevel: "warning",
  };
}
