/**
 * `realm-sync schema [--out file] [--check]`: writes `realm-config/trust-domain.schema.json` from
 * the zod schema; `--check` exits 3 when the committed file is stale.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { SchemaOptions } from "../command.ts";
import { RealmSyncError, type Outcome } from "../errors.ts";
import { trustDomainJsonSchema } from "../../realm-config/model/json-schema.ts";

export async function run(opts: SchemaOptions): Promise<Outcome> {
  const text = trustDomainJsonSchema();
  if (opts.out === "-") {
    opts.stdout.write(text);
    return "OK";
  }
  const file = resolve(opts.cwd, opts.out);
  if (opts.check) {
    const current = await readFile(file, "utf8").catch(() => undefined);
    if (current === text) {
      opts.stdout.write(`${opts.out} is up to date\n`);
      return "OK";
    }
    opts.stdout.write(
      `${opts.out} ${current === undefined ? "is missing" : "differs from the schema"}; run: npm run realm-sync -- schema\n`,
    );
    return "CHANGES_PENDING";
  }
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  } catch (cause) {
    throw new RealmSyncError("IO_FAILED", `cannot write ${opts.out} (${(cause as NodeJS.ErrnoException).code ?? "error"})`, { cause });
  }
  opts.stdout.write(`wrote ${opts.out}\n`);
  return "OK";
}
