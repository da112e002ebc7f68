/**
 * Runs one load-generator child and returns its result.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../../../deploy/local/paths.ts";
import type { LoadResult, LoadSpec } from "./protocol.ts";

const CHILD = join(repoRoot, "test", "bench", "load", "autocannon-child.ts");

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", CHILD, JSON.stringify(spec)],
      { cwd: repoRoot, timeout: (spec.durationSeconds + 60) * 1000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`load generator failed: ${error.message}\n${stderr.slice(-2000)}`));
        try {
          resolve(JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as LoadResult);
        } catch {
          reject(new Error(`load generator printed no result: ${stdout.slice(-500)} ${stderr.slice(-1000)}`));
        }
      },
    );
  });
}
