#!/usr/bin/env node
// Runs a command with the Node the production image ships first on PATH (see image-node.mjs):
//   node deploy/local/with-image-node.mjs npm run checks
// Everything the command starts through `node` or a `#!/usr/bin/env node` script (npm, tsc,
// eslint, vitest, tsx) then runs on that Node. Exits with the command's exit code.
import { spawn } from "node:child_process";
import { envWithImageNode } from "./image-node.mjs";

const [command, ...args] = process.argv.slice(2);
if (command === undefined) {
  console.error("usage: node deploy/local/with-image-node.mjs <command> [args…]");
  process.exit(2);
}
const child = spawn(command, args, { stdio: "inherit", env: envWithImageNode() });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => {
  process.exitCode = code ?? (signal ? 128 : 1);
});
