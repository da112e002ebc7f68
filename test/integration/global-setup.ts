import { rmSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startControlServer, type TrustDomainControlInfo } from "../../deploy/local/keycloak/control.ts";
import { recordSecret, startLogScan } from "../support/log-scan.ts";
import { startTrustDomain, type TrustDomainInfo } from "../../deploy/local/keycloak/trust-domain.ts";
import { cacheDir } from "../../deploy/local/paths.ts";
import { caTrustEnv } from "../../deploy/local/pki/local-pki.ts";

declare module "vitest" {
  export interface ProvidedContext {
    trustDomain: TrustDomainInfo;
    /** Stop or restart a cluster from a test (fault tests): see deploy/local/keycloak/control.ts. */
    trustDomainControl: TrustDomainControlInfo;
  }
}

/**
 * Starts the two-cluster Keycloak trust domain once per integration run (fresh databases) and
 * stops exactly what it started afterwards. Test workers inherit the CA trust env set here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // `npm test` runs on the Node major of the production image (deploy/local/with-image-node.mjs).
  console.log(`[node] integration tests run on Node ${process.version}`);
  const stateDir = join(cacheDir(), "runs", `test-${process.pid}`);
  const started = Date.now();
  const domain = await startTrustDomain({ stateDir, fresh: true, log: (line) => console.log(`[trust-domain] ${line}`) });
  console.log(
    `[trust-domain] up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${domain.info.clusters.map((c) => `${c.name} ${(c.startupMs / 1000).toFixed(1)} s`).join(", ")}`,
  );
  Object.assign(process.env, caTrustEnv(domain.pki));
  // Every log line of the run is scanned for secrets at the end (test/support/log-scan.ts).
  const logScan = startLogScan(join(cacheDir(), "runs", `test-${process.pid}-logs`));
  Object.assign(process.env, logScan.env);
  recordSecret("keycloak-admin-password", domain.info.admin.password);
  project.provide("trustDomain", domain.info);
  const control = await startControlServer(domain);
  project.provide("trustDomainControl", control.info);
  return async () => {
    await control.close();
    const keycloakLogs = domain.info.clusters.map((c) => c.logFile);
    await domain.stop();
    try {
      logScan.finish(keycloakLogs);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  };
}
