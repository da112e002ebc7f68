/**
 * The broker core assembled in-process exactly as `cloud-broker serve` assembles it (Keycloak token
 * source → STS / Entra exchangers → refreshing caches), with the two seams the fault tests need:
 * the cache's clock (moved ahead, or skewed against Keycloak and the clouds) and a record of every
 * retry the exchangers decide on (attempt and jittered delay). Logs go to the run's log scan.
 */
import type { TimerClock } from "../../../broker/clock.ts";
import type { Config } from "../../../broker/config.ts";
import { createCredentialSource, type BrokerCredentialSource } from "../../../broker/credential-source.ts";
import { createStsExchanger } from "../../../broker/exchange/aws-sts.ts";
import { createEntraExchanger } from "../../../broker/exchange/azure-entra.ts";
import { createLogger } from "../../../broker/log.ts";
import { MetricsRegistry } from "../../../broker/metrics.ts";
import { clientAuthFor } from "../../../broker/token-source/client-auth.ts";
import { createKeycloakTokenSource } from "../../../broker/token-source/keycloak.ts";
import { testLogWriter } from "../log-scan.ts";

/** A clock `skewMs` off the real one, which a test can also move ahead (`advanceMs`). */
export interface MovableClock extends TimerClock {
  skewMs: number;
  advanceMs: number;
}

export function movableClock(skewMs = 0): MovableClock {
  const clock: MovableClock = {
    skewMs,
    advanceMs: 0,
    now: () => Date.now() + clock.skewMs + clock.advanceMs,
    setTimeout(fn, ms) {
      const handle = setTimeout(fn, Math.min(Math.max(0, ms), 2 ** 31 - 1));
      handle.unref();
      return handle;
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
  return clock;
}

/** One retry an exchanger decided on. */
export interface RetryRecord {
  upstream: "aws" | "azure";
  attempt: number;
  delayMs: number;
  /** Real time of the decision (the retry is sent `delayMs` later). */
  at: number;
}

export interface InProcessBroker {
  source: BrokerCredentialSource;
  metrics: MetricsRegistry;
  clock: MovableClock;
  retries: RetryRecord[];
}

/** The broker core for `config`; `logName` names its log file in the run's log scan. */
export function inProcessBroker(config: Config, opts: { logName: string; clock?: MovableClock; random?: () => number }): InProcessBroker {
  const clock = opts.clock ?? movableClock();
  const retries: RetryRecord[] = [];
  const logger = createLogger({ level: "debug", write: testLogWriter(opts.logName), now: () => new Date(clock.now()) });
  const metrics = new MetricsRegistry();
  const timeoutMs = config.upstream.timeoutSeconds * 1000;
  const onRetry = (upstream: "aws" | "azure") => (attempt: number, delayMs: number, error: unknown) => {
    retries.push({ upstream, attempt, delayMs, at: Date.now() });
    logger.info("retrying", { upstream, attempt, delayMs, err: error });
  };
  const source = createCredentialSource({
    config,
    logger,
    metrics,
    clock,
    ...(opts.random && { random: opts.random }),
    tokenSource: createKeycloakTokenSource({
      issuer: config.issuer,
      clientId: config.clientId,
      auth: clientAuthFor(config.authentication),
      timeoutMs,
      clock,
    }),
    ...(config.aws && {
      aws: createStsExchanger({
        region: config.aws.region,
        ...(config.aws.stsEndpoint && { endpoint: config.aws.stsEndpoint }),
        timeoutMs,
        maxAttempts: config.upstream.maxAttempts,
        onRetry: onRetry("aws"),
      }),
    }),
    ...(config.azure && {
      azure: createEntraExchanger({
        authorityHost: config.azure.authorityHost,
        timeoutMs,
        maxAttempts: config.upstream.maxAttempts,
        onRetry: onRetry("azure"),
      }),
    }),
  });
  return { source, metrics, clock, retries };
}
