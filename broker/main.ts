#!/usr/bin/env node
/**
 * Entry point of `cloud-broker`: the only module that reads `process.argv`, `process.env` and
 * signals, and the only one that ends the process (with the exit code `runCli` maps from the
 * command's outcome).
 */
import { runCli } from "./cli.ts";

const shutdownSignal = new Promise<string>((resolve) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => resolve(signal));
});

const code = await runCli(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  cwd: process.cwd(),
  shutdownSignal,
});
process.exitCode = code;
// Anything left (keep-alive sockets of the SDKs, a stuck upstream call) must not hold the exit:
// give stdout a moment to flush, then go.
setTimeout(() => process.exit(code), 250).unref();
