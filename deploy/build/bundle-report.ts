import type { Metafile } from "esbuild";

/** The packages (or first-party folders) that contribute most bytes to the bundle, largest first. */
export function largestInputs(metafile: Metafile, count: number): Array<{ input: string; bytes: number }> {
  const byInput = new Map<string, number>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs)) {
      const key = packageOf(path);
      byInput.set(key, (byInput.get(key) ?? 0) + bytesInOutput);
    }
  }
  return [...byInput.entries()]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count);
}

/** `node_modules/@scope/name/x.js` → `@scope/name`; `node_modules/name/x.js` → `name`; else the top folder. */
export function packageOf(path: string): string {
  const parts = path.split("/");
  const at = parts.lastIndexOf("node_modules");
  if (at >= 0) {
    const first = parts[at + 1] ?? "";
    return first.startsWith("@") ? `${first}/${parts[at + 2] ?? ""}` : first;
  }
  return parts[0] ?? path;
}
