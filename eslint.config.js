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
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "deploy/local/*.mjs", "test/support/faults/*.mjs", "deploy/docker/*.mjs"] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "no-console": ["error", { allow: ["error", "warn"] }],
      eqeqeq: ["error", "always"],
    },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: globals.node },
  },
  {
    // CLIs, scripts and test harnesses talk to a person on the terminal.
    files: ["test/support/**", "deploy/local/**", "test/integration/global-setup.ts", "admin-scripts/cli.ts", "admin-scripts/commands/**", "broker/main.ts", "broker/cli/**", "test/bench/**", "deploy/build/**"],
    rules: { "no-console": "off" },
  },
);
