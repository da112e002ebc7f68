import { join } from "node:path";
import { startTrustDomain, type RunningTrustDomain } from "../keycloak/trust-domain.ts";
import type { StackComponent } from "./state.ts";

export interface LocalStackOptions {
  stateDir: string;
  fresh: boolean;
  frontPort: number;
  log: (line: string) => void;
}

export interface LocalStack {
  domain: RunningTrustDomain;
  components(): StackComponent[];
  /** The environment a workload needs to use the sidecars with unmodified SDKs. */
  workloadEnv(): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Brings up the local trust domain as one unit, in order, and stops it in reverse order:
 * Keycloak clusters and the issuer front.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const stops: Array<() => Promise<void>> = [];
  try {
    const domain = await startTrustDomain({ stateDir: join(opts.stateDir, "keycloak"), fresh: opts.fresh, frontPort: opts.frontPort, log: opts.log });
    stops.push(() => domain.stop());
    return {
      domain,
      components: () => [
        ...domain.info.clusters.map(
          (c): StackComponent => ({ name: `keycloak-${c.name}`, kind: "keycloak", url: c.url, healthUrl: `${c.managementUrl}/health/ready`, pid: c.pid }),
        ),
        { name: "issuer-front", kind: "issuer-front", url: domain.info.publicUrl, healthUrl: `${domain.info.publicUrl}/realms/master/.well-known/openid-configuration` },
      ],
      workloadEnv: () => ({}),
      stop: () => stopAll(stops),
    };
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.error(`stop failed: ${(error as Error).message}`);
    }
  }
}
