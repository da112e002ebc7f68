/**
 * `cloud-broker serve`: config → adapters → credential source → serving layer → listeners; on
 * SIGTERM/SIGINT stop accepting, let in-flight requests finish, and be gone within 5 s.
 */
import type { Io, Outcome, ParsedArgs } from "../cli.ts";
import type { Config } from "../config.ts";
import { toServeOptions } from "../config/serve-options.ts";
import { createCredentialSource, type BrokerCredentialSource } from "../credential-source.ts";
import { createLogger, type Logger } from "../log.ts";
import { MetricsRegistry } from "../metrics.ts";
import { listen, listenTls, type Listener } from "../serve/listen.ts";
import { startServing, type Serving } from "../serve/start.ts";
import { authMethodName, clientAuthFor } from "../token-source/client-auth.ts";
import { createKeycloakTokenSource } from "../token-source/keycloak.ts";
import type { AgentsEndpoint } from "./agents.ts";
import { requireConfig } from "./load.ts";

/** SIGTERM → exit: in-flight requests get this long, then the connections are cut. */
export const DRAIN_MS = 3_500;
/** Hard limit from the signal to the exit, whatever still runs. */
export const SHUTDOWN_DEADLINE_MS = 5_000;
/** How long `close()` may take: the deadline minus the entry module's grace before it exits. */
const CLOSE_DEADLINE_MS = SHUTDOWN_DEADLINE_MS - 500;

export interface RunningBroker {
  source: BrokerCredentialSource;
  serving: Serving;
  listener: Listener;
  opsListener?: Listener;
  /** The agents' HTTPS listener (`POST /v1/token`), only with an `agents` section. */
  agentsListener?: Listener;
  metrics: MetricsRegistry;
  /** Stop accepting, drain, stop background work. Resolves when done. */
  close(): Promise<void>;
}

/**
 * Wires the real adapters for `config`. Each cloud's SDK is loaded only when that cloud is
 * configured (the AWS SDK and MSAL are most of the sidecar's memory). Exported for in-process tests.
 */
export async function createSource(config: Config, logger: Logger, metrics: MetricsRegistry): Promise<BrokerCredentialSource> {
  const timeoutMs = config.upstream.timeoutSeconds * 1000;
  const retryLog = (upstream: string) => (attempt: number, delayMs: number, error: unknown) =>
    logger.info("retrying", { upstream, attempt, delayMs, err: error });
  const aws = config.aws;
  const azure = config.azure;
  return createCredentialSource({
    config,
    logger,
    metrics,
    tokenSource: createKeycloakTokenSource({
      issuer: config.issuer,
      clientId: config.clientId,
      auth: clientAuthFor(config.authentication),
      timeoutMs,
    }),
    ...(aws && {
      aws: (await import("../exchange/aws-sts.ts")).createStsExchanger({
        region: aws.region,
        ...(aws.stsEndpoint && { endpoint: aws.stsEndpoint }),
        timeoutMs,
        maxAttempts: config.upstream.maxAttempts,
        onRetry: retryLog("aws"),
      }),
    }),
    ...(azure && {
      azure: (await import("../exchange/azure-entra.ts")).createEntraExchanger({
        authorityHost: azure.authorityHost,
        timeoutMs,
        maxAttempts: config.upstream.maxAttempts,
        onRetry: retryLog("azure"),
      }),
    }),
  });
}

/** Starts the broker for `config` and returns once it listens. `env` is only for `${VAR}`s in the agents' realm file. */
export async function startBroker(
  config: Config,
  logger: Logger,
  env: Readonly<Record<string, string | undefined>> = {},
): Promise<RunningBroker> {
  const metrics = new MetricsRegistry({ processMetrics: true });
  const source = await createSource(config, logger, metrics);
  const options = toServeOptions(config);
  let agents: AgentsEndpoint | undefined;
  let serving: Serving | undefined;
  const listeners: Listener[] = [];
  try {
    if (config.agents) agents = await (await import("./agents.ts")).createAgentsEndpoint(config, env, logger);
    source.start();
    serving = await startServing({ source, options, metrics, log: logger });
    const listener = await listen(serving.app, options, serving.fastLane);
    listeners.push(listener);
    const opsListener = serving.opsApp && options.ops ? await listen(serving.opsApp, options.ops, serving.opsFastLane) : undefined;
    if (opsListener) listeners.push(opsListener);
    const agentsListener =
      agents && config.agents
        ? await listenTls(agents.app, config.agents.listen, config.agents.listen.tls, { log: logger, fastLane: agents.lane })
        : undefined;
    if (agentsListener) listeners.push(agentsListener);
    logger.info("cloud-broker listening", {
      address: `${listener.host}:${listener.port}`,
      ...(opsListener && { ops: `${opsListener.host}:${opsListener.port}` }),
      ...(agentsListener && {
        agents: `https://${agentsListener.host}:${agentsListener.port}`,
        agentClientCertificates: config.agents?.listen.tls.clientCaFile !== undefined,
      }),
      issuer: config.issuer,
      clientId: config.clientId,
      authentication: authMethodName(config.authentication),
      targets: source.status().map((s) => `${s.cloud}:${s.target}`),
    });
    const agentsEndpoint = agents;
    const running = serving;
    return {
      source,
      serving: running,
      listener,
      ...(opsListener && { opsListener }),
      ...(agentsListener && { agentsListener }),
      metrics,
      async close() {
        await Promise.all(listeners.map((l) => l.close(DRAIN_MS)));
        await running.stop();
        source.stop();
        agentsEndpoint?.close();
      },
    };
  } catch (error) {
    await Promise.all(listeners.map((l) => l.close(0)));
    await serving?.stop();
    source.stop();
    agents?.close();
    throw error;
  }
}

/**
 * Runs until the shutdown signal, then closes. When closing outlasts its deadline the command
 * returns `SHUTDOWN_DEADLINE` with the work still pending; the entry module (main.ts) then ends
 * the process, whatever still runs.
 */
export async function serveCommand(args: ParsedArgs, io: Io): Promise<Outcome> {
  const config = await requireConfig(args.config, io);
  const logger = createLogger({ level: config.log.level, write: io.stderr });
  const broker = await startBroker(config, logger, io.env);
  const signal = await (io.shutdownSignal ?? new Promise<string>(() => {}));
  logger.info("shutting down", { signal, drainMs: DRAIN_MS });
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const closed = await Promise.race([
    broker.close().then(() => true),
    new Promise<false>((resolve) => {
      deadline = setTimeout(() => resolve(false), CLOSE_DEADLINE_MS);
      deadline.unref();
    }),
  ]);
  clearTimeout(deadline);
  if (!closed) {
    logger.error("shutdown deadline passed; exiting with work still pending", { deadlineMs: SHUTDOWN_DEADLINE_MS });
    return "SHUTDOWN_DEADLINE";
  }
  logger.info("stopped");
  return "OK";
}
