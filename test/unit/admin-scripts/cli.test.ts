import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { main, type CommandLoader } from "../../../admin-scripts/cli.ts";
import { COMMANDS } from "../../../admin-scripts/command.ts";
import { RealmSyncError } from "../../../admin-scripts/errors.ts";
import { BASE, edit, lineOf } from "../../support/fixtures/trust-domain-yaml.ts";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), "kcb-cli-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function cli(argv: string[], load?: CommandLoader): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await main(
    argv,
    { cwd: repo, env: {}, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) } },
    load,
  );
  return { code, stdout, stderr };
}

const missing: CommandLoader = (name) => {
  const err = new Error(`Cannot find module '/repo/admin-scripts/commands/${name}.ts'`) as NodeJS.ErrnoException;
  err.code = "ERR_MODULE_NOT_FOUND";
  return Promise.reject(err);
};

describe("realm-sync CLI", () => {
  it("--help lists every command and the exit codes", async () => {
    const { code, stdout } = await cli(["--help"]);
    expect(code).toBe(0);
    for (const name of Object.keys(COMMANDS)) expect(stdout).toContain(`  ${name} `);
    expect(stdout).toMatch(/0 {2}in sync, or done/);
    expect(stdout).toMatch(/3 {2}changes pending/);
    expect(stdout).toMatch(/2 {2}invalid config or usage/);
    expect(stdout).toMatch(/1 {2}runtime failure/);
  });

  it.each(Object.keys(COMMANDS))("%s --help lists its options and exit codes", async (name) => {
    const { code, stdout } = await cli([name, "--help"]);
    expect(code).toBe(0);
    for (const option of Object.keys(COMMANDS[name as keyof typeof COMMANDS].options)) expect(stdout).toContain(`--${option}`);
    expect(stdout).toContain("Exit codes:");
  });

  it("validates the example (exit 0) and prints its warnings", async () => {
    const { code, stdout, stderr } = await cli(["validate", "realm-config/example/trust-domain.yaml"]);
    expect(code).toBe(0);
    expect(stdout).toContain("realm-config/example/trust-domain.yaml: valid (realm trust, 2 clusters, 1 signing key, 3 workloads, 1 agent");
    expect(stderr).toContain("issuer: has a port (8443)");
  });

  it("validate --require-env fails (exit 2) when cluster admin URLs are unset", async () => {
    const { code, stderr } = await cli(["validate", "--require-env", "realm-config/example/trust-domain.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /realm-config\/example\/trust-domain\.yaml:\d+:\d+ clusters\[0\]\.adminUrl: environment variable KCB_EU_ADMIN_URL is not set/,
    );
  });

  it("validate of a broken copy exits 2 with file:line:column path: message for every error", async () => {
    const file = join(tmp, "broken.yaml");
    writeFileSync(file, edit(edit(BASE, "role/app-a\n", "rol/app-a\n"), "maxDuration: 900", "maxDuration: 9000"));
    const { code, stderr } = await cli(["validate", file]);
    expect(code).toBe(2);
    expect(stderr).toContain(`realm-sync: ${file}: 2 errors in the trust domain`);
    const arnLine = lineOf(BASE, "arn: arn:aws:iam::111122223333:role/app-a");
    const arnColumn = (BASE.split("\n")[arnLine - 1] ?? "").indexOf("arn:") + 1;
    expect(stderr).toContain(`${file}:${arnLine}:${arnColumn} workloads[0].aws.roles[0].arn: must be an IAM role ARN`);
    expect(stderr).toContain(
      `${file}:${lineOf(BASE, "maxDuration: 900")}:11 agents[0].targets[0].aws.maxDuration: 9000 exceeds the role's maxSessionDuration 7200`,
    );
  });

  it("validate --json reports errors and warnings as data (exit 2)", async () => {
    const file = join(tmp, "broken.json.yaml");
    writeFileSync(file, edit(BASE, "version: 1", "version: 2"));
    const { code, stdout } = await cli(["validate", "--json", file]);
    expect(code).toBe(2);
    const report = JSON.parse(stdout) as { valid: boolean; errors: Array<{ path: string; line: number }> };
    expect(report.valid).toBe(false);
    expect(report.errors).toEqual([expect.objectContaining({ path: "version", line: 1, message: "must be 1" })]);
  });

  it("a missing config file is a config error (exit 2) naming the file", async () => {
    const { code, stderr } = await cli(["validate", "nope/missing.yaml"]);
    expect(code).toBe(2);
    expect(stderr).toContain("cannot read nope/missing.yaml (ENOENT)");
  });

  it.each([
    [["bogus"], 'unknown command "bogus"'],
    [["validate"], "expected one config file, got none"],
    [["validate", "a.yaml", "b.yaml"], "expected one config file, got a.yaml b.yaml"],
    [["validate", "--frobnicate", "a.yaml"], "Unknown option '--frobnicate'"],
    [["export-trust", "--out"], "argument missing"],
  ])("usage error %j exits 2", async (argv, message) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(2);
    expect(stderr).toContain(message);
  });

  it("without arguments prints the help to stderr and exits 2", async () => {
    const { code, stderr } = await cli([]);
    expect(code).toBe(2);
    expect(stderr).toContain("usage: realm-sync <command>");
  });

  it("reports a command whose module is missing as not available (exit 1), without loading others", async () => {
    const { code, stderr } = await cli(["plan", "realm-config/example/trust-domain.yaml"], missing);
    expect(code).toBe(1);
    expect(stderr).toContain('command "plan" is not available in this build');
  });

  it("passes typed options to the command and maps the outcome it returns to the exit code", async () => {
    let seen: unknown;
    const load: CommandLoader = () => Promise.resolve({ run: (opts: unknown) => ((seen = opts), Promise.resolve("DRIFT")) });
    const { code } = await cli(["check", "--json", "--cluster", "eu", "--cluster", "us", "x.yaml"], load);
    expect(code).toBe(3);
    expect(seen).toMatchObject({ config: "x.yaml", json: true, cluster: ["eu", "us"], verbose: false, cwd: repo });
  });

  it.each([
    ["CLUSTER_UNREACHABLE", 1],
    ["LOCKED", 1],
    ["DRIFT", 3],
    ["CONFIG_INVALID", 2],
  ] as const)("maps a thrown RealmSyncError %s to exit %i", async (errorCode, exit) => {
    const load: CommandLoader = () =>
      Promise.resolve({ run: () => Promise.reject(new RealmSyncError(errorCode, "cluster eu: boom", { cluster: "eu" })) });
    const { code, stderr } = await cli(["apply", "x.yaml"], load);
    expect(code).toBe(exit);
    expect(stderr).toContain("realm-sync: cluster eu: boom");
  });

  it("maps an unexpected error to exit 1 without a stack unless --verbose", async () => {
    const load: CommandLoader = () => Promise.resolve({ run: () => Promise.reject(new Error("kaput")) });
    const quiet = await cli(["apply", "x.yaml"], load);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toContain("unexpected error: kaput");
    expect(quiet.stderr).not.toContain("at ");
    const verbose = await cli(["apply", "--verbose", "x.yaml"], load);
    expect(verbose.stderr).toMatch(/\n\s+at /);
  });
});
