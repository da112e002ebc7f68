/**
 * The repository's ESLint config refuses imports across the two programs (broker/ ↔ admin-scripts/)
 * and from the shared trust-domain model into either: linted here through ESLint's Node API with
 * the real eslint.config.js (type-aware rules off, they are irrelevant to imports and slow).
 */
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import tseslint from "typescript-eslint";
import { describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../../../", import.meta.url));
const eslint = new ESLint({ cwd: repo, overrideConfig: tseslint.configs.disableTypeChecked });

async function restricted(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: file });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === "no-restricted-imports" || m.ruleId === "no-restricted-syntax")
    .map((m) => m.message);
}

// Loading the config and the parser takes seconds on a busy machine; no speed is asserted here.
describe("lint: one direction of dependency", { timeout: 60_000 }, () => {
  it.each([
    [
      "broker/app.ts",
      'import { EXIT } from "../admin-scripts/errors.ts";\nexport const x = EXIT;\n',
      "broker/ may not import from admin-scripts/",
    ],
    [
      "broker/agents/policy/file-store.ts",
      'import type { ExitCode } from "../../../admin-scripts/errors.ts";\nexport type X = ExitCode;\n',
      "broker/ may not import from admin-scripts/",
    ],
    ["broker/cli/agents.ts", 'export * from "../../admin-scripts/trust/artifacts.ts";\n', "broker/ may not import from admin-scripts/"],
    [
      "broker/config.ts",
      'export { startLocalStack } from "../deploy/local/stack/local-stack.ts";\n',
      "broker/ may not import from deploy/local/",
    ],
    [
      "admin-scripts/cli.ts",
      'import { BrokerError } from "../broker/errors.ts";\nexport const x = BrokerError;\n',
      "admin-scripts/ may not import from broker/",
    ],
    ["admin-scripts/diff/diff.ts", 'export { BrokerError } from "../../broker/errors.ts";\n', "admin-scripts/ may not import from broker/"],
    ["admin-scripts/keycloak/read.ts", 'import "../../test/support/log-scan.ts";\n', "admin-scripts/ may not import from test/"],
    ["realm-config/model/path.ts", 'export * from "../../admin-scripts/errors.ts";\n', "realm-config/ may not import from admin-scripts/"],
    ["realm-config/model/load.ts", 'export * from "../../broker/errors.ts";\n', "realm-config/ may not import from broker/"],
    [
      "deploy/local/cloud/sts/server.ts",
      'import { recordSecret } from "../../../../test/support/log-scan.ts";\nexport const r = recordSecret;\n',
      "deploy/ may not import from test/",
    ],
    [
      "broker/cli/serve.ts",
      'export const m = await import("../../admin-scripts/trust/export.ts");\n',
      "broker/ may not import from admin-scripts/",
    ],
    [
      "admin-scripts/commands/apply.ts",
      'export const m = await import("../../broker/errors.ts");\n',
      "admin-scripts/ may not import from broker/",
    ],
  ])("%s: refuses %j", async (file, code, message) => {
    const messages = await restricted(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(message);
  });

  it.each([
    ["broker/config.ts", 'export { parseYaml } from "../realm-config/model/yaml-source.ts";\n'],
    ["broker/agents/policy/compile.ts", 'export type { TrustDomain } from "../../../realm-config/model/schema.ts";\n'],
    ["admin-scripts/command.ts", 'export { parseTrustDomain } from "../realm-config/model/load.ts";\n'],
    ["admin-scripts/diff/diff.ts", 'export { formatClusterPlan } from "./format.ts";\n'],
    ["broker/serve/app.ts", 'export { BrokerError } from "../errors.ts";\n'],
    ["broker/cli/serve.ts", 'export const m = await import("../exchange/aws-sts.ts");\n'],
  ])("%s: allows %j", async (file, code) => {
    expect(await restricted(file, code)).toEqual([]);
  });
});
