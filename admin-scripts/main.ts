#!/usr/bin/env node
/**
 * Entry point of `realm-sync` (the package's `realm-sync` bin, bundled as `dist/realm-sync.mjs`):
 * the only module that reads `process.argv` and `process.env`, and the only one that sets the exit
 * code, which `cli.ts` maps from the command's outcome.
 */
import { main } from "./cli.ts";

process.exitCode = await main(process.argv.slice(2), {
  cwd: process.cwd(),
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
});
