// Lint rules: the recommended sets, type-aware, plus a few that catch the bugs this project fears most.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "dist/**", ".venv/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: [
            "*.js",
            "deploy/local/*.mjs",
            "test/support/faults/*.mjs",
            "deploy/docker/*.mjs",
            "test/bench/servers/*.mjs",
          ],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error", "warn"] }],
      eqeqeq: ["error", "always"],
    },
  },
  // One direction of dependency: the sidecar (broker/) and realm-sync (admin-scripts/) both import
  // the shared trust-domain model (realm-config/model/), never each other; the model imports
  // neither program, no shipped program imports the local deployment or the tests, and nothing
  // under deploy/ imports the tests.
  ...boundaries("broker", ["admin-scripts", "test", "deploy/local"]),
  ...boundaries("admin-scripts", ["broker", "test", "deploy/local"]),
  ...boundaries("realm-config", ["broker", "admin-scripts", "test", "deploy"]),
  ...boundaries("deploy", ["test"]),
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    // CLIs, scripts and test harnesses talk to a person on the terminal.
    files: [
      "test/support/**",
      "deploy/local/**",
      "test/integration/global-setup.ts",
      "admin-scripts/cli.ts",
      "admin-scripts/commands/**",
      "broker/main.ts",
      "broker/cli/**",
      "test/bench/**",
      "deploy/build/**",
    ],
    rules: { "no-console": "off" },
  },
);

/**
 * `no-restricted-imports` for every file below the top-level folder `from`: any import that leaves
 * `from` and enters one of `folders` (repository-relative). One config block per folder depth, so
 * the pattern knows exactly how many `../` lead to the repository root.
 */
function boundaries(from, folders) {
  const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const message = (folder) =>
    `${from}/ may not import from ${folder}/ (one direction of dependency: code both programs need lives in realm-config/model/).`;
  return [1, 2, 3, 4, 5, 6].map((depth) => {
    const regex = (folder) => `^${"\\.\\./".repeat(depth)}${escape(folder)}(?:/|$)`;
    return {
      files: [`${from}/${"*/".repeat(depth - 1)}*`],
      rules: {
        "no-restricted-imports": ["error", { patterns: folders.map((folder) => ({ regex: regex(folder), message: message(folder) })) }],
        // The same for `await import("…")`, which no-restricted-imports does not see.
        "no-restricted-syntax": [
          "error",
          ...folders.map((folder) => ({
            selector: `ImportExpression > Literal[value=/${regex(folder).replaceAll("/", "\\/")}/]`,
            message: message(folder),
          })),
        ],
      },
    };
  });
}
