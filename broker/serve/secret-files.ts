/**
 * The secret files written at start. The AWS container token is fresh on every start (the SDK
 * re-reads the file on every request, so rotating it costs nothing). The App Service header secret
 * is kept when a well-formed one is already there: the workload copied it into `IDENTITY_HEADER`
 * when it started, and a restarted sidecar that changed it would lock the workload out.
 */
import { readFile } from "node:fs/promises";
import { writeFileAtomic } from "./atomic-file.ts";
import { generateSecret, SECRET_SHAPE } from "./secret.ts";

export type SecretFilePolicy = "rotate" | "reuse";

/** Ensure `path` holds a secret (no trailing newline), mode `mode`, and return it. */
export async function ensureSecretFile(path: string, mode: number, policy: SecretFilePolicy): Promise<string> {
  if (policy === "reuse") {
    const existing = await readFile(path, "utf8").catch(() => undefined);
    if (existing !== undefined && SECRET_SHAPE.test(existing)) {
      await writeFileAtomic(path, existing, mode); // re-assert the mode
      return existing;
    }
  }
  const secret = generateSecret();
  await writeFileAtomic(path, secret, mode);
  return secret;
}
