/**
 * Writes the files unmodified SDKs read (token files, secrets, the AWS config) so that a reader
 * sees either the old content or the new one, never a partial file: write a temporary file in the
 * same directory, fsync it, rename it over the target (atomic within one file system), fsync the
 * directory. The mode is set explicitly, whatever the umask.
 */
import { randomBytes } from "node:crypto";
import { open, readdir, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Atomically replace `path` with `data`, mode `mode`.
 *
 * @example
 * await writeFileAtomic("/var/run/cloud-broker/aws-web-identity-token", jwt, 0o600);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  await writeThenRename(temp, path, data, mode);
  await syncDirectory(dir);
}

function isTempOf(name: string, target: string): boolean {
  const prefix = `.${target}.`;
  return name.startsWith(prefix) && name.endsWith(".tmp") && /^[0-9a-f]{12}$/.test(name.slice(prefix.length, -".tmp".length));
}

/**
 * Removes temporary files a killed process left beside `path` (they may hold a complete token).
 * Run once at start, before the first write; never touches anything but our own temp names.
 */
export async function removeStaleTempFiles(path: string): Promise<number> {
  const dir = dirname(path);
  const target = basename(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  const stale = names.filter((name) => isTempOf(name, target));
  await Promise.all(stale.map((name) => rm(join(dir, name), { force: true })));
  return stale.length;
}

async function writeThenRename(temp: string, path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const file = await open(temp, "wx", mode);
  try {
    try {
      await file.chmod(mode);
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename durable across a crash; some file systems refuse fsync on a directory.
  const handle = await open(dir, "r").catch(() => undefined);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // best effort
  } finally {
    await handle.close();
  }
}
