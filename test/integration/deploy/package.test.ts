/**
 * The package as a user gets it: `npm pack` (which builds both bundles), installed into an empty
 * folder with no network (`--offline`: the package needs no other npm package), then the
 * executables run through `npx`, with exactly the commands the README and the realm-sync CI
 * workflow give.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../../deploy/local/paths.ts";

const work = mkdtempSync(join(tmpdir(), "kcb-package-"));
const installed = join(work, "installed");
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", timeout: 180_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Each `run:` line of the workflow that calls realm-sync, as written. */
function workflowRealmSyncLines(): string[] {
  const workflow = parse(readFileSync(join(repoRoot, "deploy", "github", "workflows", "realm-sync.yml"), "utf8")) as {
    jobs: Record<string, { steps: Array<{ run?: string }> }>;
  };
  return Object.values(workflow.jobs)
    .flatMap((job) => job.steps.map((s) => s.run ?? ""))
    .flatMap((script) => script.split("\n"))
    .map((line) => line.trim())
    .filter((line) => /\brealm-sync\b/.test(line) && !line.startsWith("#") && !line.startsWith("echo"));
}

/** Each command line of the README's shell blocks that calls one of the executables. */
function readmeLines(): string[] {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)]
    .flatMap((m) => m[1]!.split("\n"))
    .map((line) => line.replace(/\s+#.*$/, "").trim())
    .filter((line) => /^(npx realm-sync|cloud-broker) /.test(line));
}

beforeAll(() => {
  const packed = run("npm", ["pack", "--json", "--pack-destination", work], repoRoot);
  expect(packed.status, packed.stderr).toBe(0);
  const [{ filename }] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("["))) as [{ filename: string }];
  mkdirSync(installed);
  writeFileSync(join(installed, "package.json"), JSON.stringify({ private: true }));
  const install = run("npm", ["install", "--offline", "--no-audit", "--no-fund", join(work, filename)], installed);
  expect(install.status, install.stderr).toBe(0);
  // The trust domain a user keeps in their repository, under the names the README and workflow use.
  mkdirSync(join(installed, "realm-config"));
  for (const name of ["prod.yaml", "trust-domain.yaml"])
    copyFileSync(join(repoRoot, "realm-config", "example", "trust-domain.yaml"), join(installed, "realm-config", name));
}, 300_000);

describe("the installed package", () => {
  it("holds the two bundles and nothing else it would need node_modules for", () => {
    expect(readdirSync(join(installed, "node_modules")).sort()).toEqual([".bin", ".package-lock.json", "keycloak-cloud-broker"]);
    expect(readdirSync(join(installed, "node_modules", ".bin")).sort()).toEqual(["cloud-broker", "realm-sync"]);
  });

  it.each(["realm-sync", "cloud-broker"])("npx %s --help works", (bin) => {
    const result = run("npx", ["--offline", bin, "--help"], installed);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain(
      bin === "realm-sync" ? "usage: realm-sync <command>" : "cloud-broker: trades the workload's Keycloak identity",
    );
  });

  it("runs the workflow's realm-sync commands: every one is `npx realm-sync <command>`, and its validate step passes", () => {
    const lines = workflowRealmSyncLines();
    expect(lines.length).toBeGreaterThanOrEqual(6);
    for (const line of lines)
      expect(line, line).toMatch(/^npx realm-sync (validate|plan|apply|check|export-trust|schema|bootstrap-identities) /);
    const validate = lines.find((l) => /^npx realm-sync validate "\$REALM_CONFIG"$/.test(l));
    expect(validate).toBeDefined();
    const result = run("bash", ["-eo", "pipefail", "-c", validate!], installed, { REALM_CONFIG: "realm-config/trust-domain.yaml" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("realm-config/trust-domain.yaml: valid");
  });

  it("runs the README's commands: the offline ones succeed, the ones that need clusters fail with the cluster's variable named", () => {
    const lines = readmeLines();
    expect(lines.filter((l) => l.startsWith("npx realm-sync")).length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      const args = line.split(/\s+/);
      if (args[0] === "cloud-broker") {
        // The sidecar's commands take the config of a deployed pod; the subcommand must exist.
        const help = run("npx", ["--offline", "cloud-broker", args[1]!, "--help"], installed);
        expect(help.status, `${line}: ${help.stderr}`).toBe(0);
        continue;
      }
      const result = run("npx", ["--offline", ...args.slice(1)], installed);
      if (["validate", "export-trust"].includes(args[2]!)) {
        expect(result.status, `${line}: ${result.stderr}`).toBe(0);
      } else {
        // plan/apply/check against the example: its clusters' admin URLs come from unset variables.
        expect(result.status, line).toBe(2);
        expect(result.stderr, line).toContain("KCB_EU_ADMIN_URL");
      }
    }
  });
});
