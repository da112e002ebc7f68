import { createLogger } from "vite";
import { defineConfig } from "vitest/config";

// Packages inlined below ship source maps without their sources; Vite warns once per file.
const logger = createLogger();
const warn = logger.warn.bind(logger);
logger.warn = (msg, options) => {
  if (!msg.includes("points to missing source files")) warn(msg, options);
};

// Two layers: unit tests never open a socket or start a process (test/support/unit-no-io.ts makes
// both throw); integration tests share one two-cluster Keycloak trust domain started once per run
// by the global setup.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          setupFiles: ["test/support/unit-no-io.ts"],
          // A guard against hangs, not a speed target (those live in npm run bench): key generation
          // and property runs take seconds when the machine is busy.
          testTimeout: 30_000,
          // Imports its JSON schema without an import attribute, which Node refuses; Vite's transform does not.
          server: { deps: { inline: ["@actions/workflow-parser"] } },
        },
        customLogger: logger,
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
