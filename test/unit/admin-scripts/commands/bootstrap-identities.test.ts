import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { bootstrapAdmin, run } from "../../../../admin-scripts/commands/bootstrap-identities.ts";
import type { RealmSyncError } from "../../../../admin-scripts/errors.ts";
import { provisionSecret, writeGeneratedSecret } from "../../../../realm-config/model/secrets.ts";
import { BASE } from "../../../support/fixtures/trust-domain-yaml.ts";

const tmp = mkdtempSync(join(tmpdir(), "kcb-bootstrap-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const ADMIN = { KC_BOOTSTRAP_ADMIN_USERNAME: "admin", KC_BOOTSTRAP_ADMIN_PASSWORD: "bootstrap-pw" };

describe("bootstrapAdmin", () => {
  it.each([
    [ADMIN, { username: "admin", password: "bootstrap-pw" }],
    [
      { KC_BOOTSTRAP_ADMIN_CLIENT_ID: "temp-admin", KC_BOOTSTRAP_ADMIN_CLIENT_SECRET: "s" },
      { clientId: "temp-admin", clientSecret: "s" },
    ],
  ])("reads Keycloak's own bootstrap variables", (env, expected) => {
    expect(bootstrapAdmin(env)).toEqual(expected);
  });

  it.each([
    [{}, /set KC_BOOTSTRAP_ADMIN_USERNAME and KC_BOOTSTRAP_ADMIN_PASSWORD/],
    [{ KC_BOOTSTRAP_ADMIN_USERNAME: "admin" }, /KC_BOOTSTRAP_ADMIN_PASSWORD is not set/],
    [{ KC_BOOTSTRAP_ADMIN_CLIENT_ID: "temp-admin", KC_BOOTSTRAP_ADMIN_PASSWORD: "" }, /KC_BOOTSTRAP_ADMIN_CLIENT_SECRET is not set/],
  ])("refuses an incomplete bootstrap admin with USAGE, naming the variable", (env, message) => {
    let error: RealmSyncError | undefined;
    try {
      bootstrapAdmin(env);
    } catch (e) {
      error = e as RealmSyncError;
    }
    expect(error?.code).toBe("USAGE");
    expect(error?.message).toMatch(message);
  });
});

describe("provisionSecret", () => {
  it("generates a value for a missing file, writes it mode 0600, and reads it back on the next run", () => {
    const first = provisionSecret({ file: "view.secret" }, { baseDir: tmp, env: {} });
    expect(first.generate).toBe(join(tmp, "view.secret"));
    expect(first.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    writeGeneratedSecret(first.generate!, first.value);
    expect(statSync(first.generate!).mode & 0o777).toBe(0o600);
    expect(provisionSecret({ file: "view.secret" }, { baseDir: tmp, env: {} })).toEqual({ value: first.value });
    expect(() => writeGeneratedSecret(first.generate!, "other")).toThrow(/cannot write secret file .*view\.secret \(EEXIST\)/);
    expect(readFileSync(first.generate!, "utf8")).toBe(`${first.value}\n`);
  });

  it("takes an env reference's value and refuses an unset one, naming the variable", () => {
    expect(provisionSecret({ env: "S" }, { baseDir: tmp, env: { S: "from-env" } })).toEqual({ value: "from-env" });
    expect(() => provisionSecret({ env: "S" }, { baseDir: tmp, env: {} })).toThrow("environment variable S is not set");
  });
});

describe("bootstrap-identities, before any cluster is contacted", () => {
  async function offline(yaml: string, env: Record<string, string> = ADMIN) {
    const file = join(tmp, `c-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    let out = "";
    try {
      await run({
        cwd: tmp,
        env,
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: () => true },
        config: file,
        verbose: false,
        cluster: [],
      });
    } catch (error) {
      return { error: error as RealmSyncError, out };
    }
    throw new Error("expected a refusal before any network call");
  }

  const split = BASE.replace(
    / {4}auth:\n {6}username: admin\n {6}password: \{ env: KC_PASSWORD \}\n/,
    "    auth:\n      apply: { clientId: rs-apply, clientSecret: { env: RS_APPLY_SECRET } }\n      view: { clientId: rs-view, clientSecret: { file: eu-view.secret } }\n",
  );

  it("refuses a cluster whose auth is not { apply, view } (CONFIG_INVALID, file:line and path), generating no secret", async () => {
    const { error, out } = await offline(split);
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.issues.map((i) => i.path)).toEqual(["clusters[0].auth.apply.clientSecret", "clusters[1].auth"]);
    expect(error.issues[1]!.line).toBeGreaterThan(0);
    expect(out).toBe("");
    expect(() => statSync(join(tmp, "eu-view.secret"))).toThrow();
  });

  it("refuses an unset env secret with SECRET_UNAVAILABLE, naming the field and the variable but no value", async () => {
    const { error } = await offline(split.replace(/ {2}- name: us[\s\S]*?(?=signingKeys:)/, ""), { ...ADMIN, RS_APPLY_SECRET: "" });
    expect(error.code).toBe("SECRET_UNAVAILABLE");
    expect(error.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "clusters[0].auth.apply.clientSecret: environment variable RS_APPLY_SECRET is not set",
    ]);
    expect(JSON.stringify(error)).not.toContain("bootstrap-pw");
  });

  it("refuses without a bootstrap admin (USAGE)", async () => {
    const { error } = await offline(split, {});
    expect(error.code).toBe("USAGE");
  });
});
