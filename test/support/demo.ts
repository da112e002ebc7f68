/**
 * `npm run demo [-- --once]`: the product on its local default. For now it brings up the local
 * two-cluster Keycloak trust domain (downloading and building Keycloak on first run), prints its
 * endpoints, and stays up until Ctrl-C; `--once` stops after printing.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startTrustDomain } from "./keycloak/trust-domain.ts";
import { cacheDir } from "./paths.ts";
import { caTrustEnv } from "./pki.ts";

const { values } = parseArgs({
  options: { once: { type: "boolean", default: false }, fresh: { type: "boolean", default: false }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log(`usage: npm run demo [-- --once] [-- --fresh]

  Starts the local trust domain: two Keycloak clusters (eu, us) over HTTPS behind one issuer address.
  --once    print the report and stop everything
  --fresh   start from empty Keycloak databases instead of reusing the last run's state

  Environment: KCB_FRONT_PORT (issuer port, default 8443), KCB_CACHE_DIR (downloads and state).`);
  process.exit(0);
}

const started = Date.now();
const domain = await startTrustDomain({
  stateDir: join(cacheDir(), "state", "demo"),
  fresh: values.fresh,
  frontPort: Number(process.env.KCB_FRONT_PORT ?? 8443),
  log: (line) => console.log(`• ${line}`),
});
const info = domain.info;
console.log(`
Local trust domain up in ${((Date.now() - started) / 1000).toFixed(1)} s (Keycloak ${info.keycloakVersion})
  issuer base    ${info.publicUrl}   (routes to a healthy cluster)
${info.clusters.map((c) => `  cluster ${c.name.padEnd(6)} ${c.url}   admin console ${c.url}/admin  (started in ${(c.startupMs / 1000).toFixed(1)} s, log ${c.logFile})`).join("\n")}
  admin          user ${info.admin.username}, password in ${join(cacheDir(), "state", "demo", "admin.json")}
  trust the CA   ${Object.entries(caTrustEnv(domain.pki)).map(([k, v]) => `${k}=${v}`).join(" ")}
`);

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("stopping everything the demo started …");
  await domain.stop();
  console.log("stopped.");
  process.exit(0);
}
if (values.once) {
  await shutdown();
} else {
  console.log("Up. Press Ctrl-C to stop.");
  process.on("SIGINT", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
}
