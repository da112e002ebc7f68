/**
 * The licences of every package bundled into an artifact, from esbuild's metafile: each package's
 * name, version, declared licence and its LICENSE file's text. esbuild's own `legalComments` output
 * holds only legal comments (`@license`, `/*!` blocks) and is not written at all when no bundled file has one, so the
 * image's `<bundle>.LEGAL.txt` is written from the packages themselves.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Metafile } from "esbuild";

/** `node_modules/@scope/name/…` or `node_modules/name/…` → the package's folder (innermost node_modules wins). */
export function packageDirOf(input: string): string | undefined {
  const at = input.lastIndexOf("node_modules/");
  if (at < 0) return undefined;
  const rest = input.slice(at + "node_modules/".length).split("/");
  const depth = rest[0]?.startsWith("@") ? 2 : 1;
  if (rest.length <= depth) return undefined;
  return input.slice(0, at) + "node_modules/" + rest.slice(0, depth).join("/");
}

/** The licences text for the packages whose files are inputs of `metafile`, read under `root`. */
export function licencesText(metafile: Metafile, root: string): string {
  const dirs = [...new Set(Object.keys(metafile.inputs).flatMap((i) => packageDirOf(i) ?? []))].sort();
  const sections = dirs.map((dir) => {
    const manifest = JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8")) as {
      name?: string;
      version?: string;
      license?: string;
    };
    const licenceFile = existsSync(join(root, dir))
      ? readdirSync(join(root, dir)).find((f) => /^(licen[cs]e|copying)(\.|$)/i.test(f))
      : undefined;
    const text = licenceFile
      ? readFileSync(join(root, dir, licenceFile), "utf8").trim()
      : `(no licence file; package.json says ${manifest.license ?? "nothing"})`;
    return `${manifest.name ?? dir}@${manifest.version ?? "?"} — ${manifest.license ?? "UNKNOWN"}\n\n${text}\n`;
  });
  return `Packages bundled into this file, with their licences (${dirs.length}).\n\n${sections.join("\n" + "-".repeat(80) + "\n\n")}`;
}
