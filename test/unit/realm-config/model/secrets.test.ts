import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT_CODES, loadingTrustDomain, RealmSyncError } from "../../../../admin-scripts/errors.ts";
import { TrustDomainError } from "../../../../realm-config/model/errors.ts";
import { resolveSecret } from "../../../../realm-config/model/load.ts";

const dir = mkdtempSync(join(tmpdir(), "kcb-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "secrets"));
writeFileSync(join(dir, "secrets", "pw.txt"), "s3cret-from-file\n");
writeFileSync(join(dir, "empty.txt"), "\n");

function failure<E extends Error>(type: new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (err) {
    if (err instanceof type) return err;
    throw err;
  }
  throw new Error(`expected a ${type.name}`);
}

describe("resolveSecret", () => {
  it("reads an environment variable", () => {
    expect(resolveSecret({ env: "KC_PW" }, { baseDir: dir, env: { KC_PW: "s3cret-from-env" } })).toBe("s3cret-from-env");
  });

  it("reads a file relative to the config's directory, without its trailing line break", () => {
    expect(resolveSecret({ file: "secrets/pw.txt" }, { baseDir: dir, env: {} })).toBe("s3cret-from-file");
  });

  it("reads an absolute file path as is", () => {
    expect(resolveSecret({ file: join(dir, "secrets", "pw.txt") }, { baseDir: "/nonexistent", env: {} })).toBe("s3cret-from-file");
  });

  it.each([
    ["an unset variable", { env: "KC_MISSING" }, {}, "environment variable KC_MISSING is not set"],
    ["an empty variable", { env: "KC_EMPTY" }, { KC_EMPTY: "" }, "environment variable KC_EMPTY is not set"],
    ["a missing file", { file: "secrets/nope.txt" }, {}, `cannot read secret file ${join(dir, "secrets", "nope.txt")} (ENOENT)`],
    ["an empty file", { file: "empty.txt" }, {}, `secret file ${join(dir, "empty.txt")} is empty`],
  ] as const)("names the source of %s, with code SECRET_UNAVAILABLE (exit 2)", (_, ref, env, message) => {
    const err = failure(TrustDomainError, () => resolveSecret(ref, { baseDir: dir, env }));
    expect(err.code).toBe("SECRET_UNAVAILABLE");
    expect(err.message).toBe(message);
    // realm-sync's edge keeps the code and message and gives the exit code.
    const mapped = failure(RealmSyncError, () => loadingTrustDomain(() => resolveSecret(ref, { baseDir: dir, env })));
    expect([mapped.code, EXIT_CODES[mapped.code], mapped.message]).toEqual(["SECRET_UNAVAILABLE", 2, message]);
  });

  it("never puts a value in an error message", () => {
    const err = failure(TrustDomainError, () => resolveSecret({ env: "OTHER" }, { baseDir: dir, env: { KC_PW: "s3cret-from-env" } }));
    expect(err.message).not.toContain("s3cret");
  });
});
