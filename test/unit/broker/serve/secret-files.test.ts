import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { removeStaleTempFiles, writeFileAtomic } from "../../../../broker/serve/atomic-file.ts";
import { SECRET_SHAPE, secretMatcher } from "../../../../broker/serve/secret.ts";
import { ensureSecretFile } from "../../../../broker/serve/secret-files.ts";

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "broker-serve-"));
  umask = process.umask(0o022);
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

const modeOf = (path: string) => statSync(path).mode & 0o777;

describe("writeFileAtomic", () => {
  it.each([0o600, 0o640])("writes exactly the data with mode %o, whatever the umask, and leaves no temp file", async (mode) => {
    process.umask(0o000);
    const path = join(dir, "token");
    await writeFileAtomic(path, "abc", mode);
    expect(readFileSync(path, "utf8")).toBe("abc");
    expect(modeOf(path)).toBe(mode);
    writeFileSync(path, "old");
    await writeFileAtomic(path, "new", mode);
    expect(readFileSync(path, "utf8")).toBe("new");
    expect(modeOf(path)).toBe(mode);
    expect(readdirSync(dir)).toEqual(["token"]);
  });

  it("never lets a reader see a partial or empty file while it is replaced", async () => {
    const path = join(dir, "token");
    const versions = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(3, "0")}:${"x".repeat(200_000)}`);
    await writeFileAtomic(path, versions[0]!, 0o600);
    let writing = true;
    const seen = new Set<string>();
    const reader = (async () => {
      let reads = 0;
      while (writing || reads < 50) {
        const content = await readFile(path, "utf8");
        expect(versions).toContain(content);
        seen.add(content.slice(0, 3));
        reads += 1;
      }
      return reads;
    })();
    for (const version of versions.slice(1)) await writeFileAtomic(path, version, 0o600);
    writing = false;
    expect(await reader).toBeGreaterThanOrEqual(50);
    expect(seen.size).toBeGreaterThan(1);
    expect(readdirSync(dir)).toEqual(["token"]);
  });

  it("fails without leaving a temp file when the target cannot be replaced", async () => {
    const path = join(dir, "a-directory");
    await import("node:fs/promises").then((fs) => fs.mkdir(join(path, "inside"), { recursive: true }));
    await expect(writeFileAtomic(path, "x", 0o600)).rejects.toThrow();
    expect(readdirSync(dir)).toEqual(["a-directory"]);
  });
});

describe("removeStaleTempFiles", () => {
  it("removes only the temp files an interrupted write of this target left behind", async () => {
    const path = join(dir, "aws-web-identity-token");
    const left = [".aws-web-identity-token.0123456789ab.tmp", ".aws-web-identity-token.ba9876543210.tmp"];
    const kept = [
      "aws-web-identity-token",
      ".azure-federated-token.0123456789ab.tmp",
      ".aws-web-identity-token.notatempname.tmp",
      "aws-web-identity-token.0123456789ab.tmp",
    ];
    for (const name of [...left, ...kept]) writeFileSync(join(dir, name), "eyJ.partial");
    expect(await removeStaleTempFiles(path)).toBe(2);
    expect(readdirSync(dir).sort()).toEqual([...kept].sort());
  });

  it("is a no-op when the directory does not exist yet", async () => {
    expect(await removeStaleTempFiles(join(dir, "missing", "token"))).toBe(0);
  });
});

describe("secret files", () => {
  it("rotate: a fresh 43-character base64url secret, mode 0600, no trailing newline, every time", async () => {
    const path = join(dir, "aws-container-token");
    const first = await ensureSecretFile(path, 0o600, "rotate");
    const raw = readFileSync(path, "utf8");
    expect(raw).toBe(first);
    expect(raw).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(modeOf(path)).toBe(0o600);
    expect(await ensureSecretFile(path, 0o600, "rotate")).not.toBe(first);
  });

  it("reuse: keeps a well-formed secret (and fixes its mode), replaces a malformed one", async () => {
    const path = join(dir, "azure-identity-header");
    const first = await ensureSecretFile(path, 0o640, "reuse");
    expect(await ensureSecretFile(path, 0o600, "reuse")).toBe(first);
    expect(modeOf(path)).toBe(0o600);
    writeFileSync(path, "short\n");
    const replaced = await ensureSecretFile(path, 0o600, "reuse");
    expect(replaced).not.toBe("short\n");
    expect(replaced).toMatch(SECRET_SHAPE);
  });
});

describe("secretMatcher", () => {
  const secret = "A".repeat(43);
  const matches = secretMatcher(secret);
  it.each([
    [secret, true],
    [undefined, false],
    ["", false],
    ["A".repeat(42) + "B", false],
    ["A".repeat(44), false],
    [`${secret}\n`, false],
    ["A".repeat(42) + "\u00c1", false],
    ["A".repeat(42) + "\u0141", false],
  ])("%j → %s", (presented, expected) => {
    expect(matches(presented)).toBe(expected);
  });
  it("refuses a weak secret at construction", () => {
    expect(() => secretMatcher("too-short")).toThrow(TypeError);
  });
});
