import { spawn } from "node:child_process";
import { ensureLocalPki, caTrustEnv } from "./local-pki.ts";

/**
 * Makes this program trust the local CA the standard way: Node reads NODE_EXTRA_CA_CERTS only at
 * start-up, so when it is not already set to the local CA the program runs itself again with the
 * trust env set (stdio inherited, exit code passed through) and this process only waits.
 * Returns in the process that trusts the CA.
 */
export async function runTrustingLocalCa(): Promise<void> {
  const pki = await ensureLocalPki();
  if (process.env.NODE_EXTRA_CA_CERTS === pki.caCertFile) return;
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: "inherit",
    env: { ...process.env, ...caTrustEnv(pki) },
  });
  // Ctrl-C reaches the child through the terminal's process group; a SIGTERM sent to us alone is passed on.
  process.on("SIGINT", () => {});
  process.on("SIGTERM", () => child.kill("SIGTERM"));
  const code = await new Promise<number>((resolve) => child.on("exit", (c, signal) => resolve(c ?? (signal ? 128 + 15 : 1))));
  process.exit(code);
}
