/**
 * Puts the serving layer in place: writes the secret files and the AWS config file, starts the
 * token-file writers, and builds the apps. The entry module then binds them (broker/serve/listen.ts)
 * and calls `stop()` on shutdown.
 */
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Hono } from "hono";
import { createApp, createOpsApp, requestCounter, type ServeSecrets } from "../app.ts";
import { awsContainerFastLane, azureAppServiceFastLane, fastLanes, opsFastLane, type FastLane } from "./fast-lane.ts";
import { secretMatcher } from "./secret.ts";
import type { CredentialSource } from "../credentials.ts";
import { BrokerError } from "../errors.ts";
import { removeStaleTempFiles, writeFileAtomic } from "./atomic-file.ts";
import { awsConfigFile } from "./aws-credential-process.ts";
import { serveOptionIssues, type ServeOptions } from "./options.ts";
import { systemClock, type Clock } from "../clock.ts";
import { quietLogger, type ServeLogger, type ServeMetrics } from "./ports.ts";
import type { ServeEnv } from "./protocol.ts";
import { ensureSecretFile } from "./secret-files.ts";
import { TokenFileWriter } from "./token-file-writer.ts";

export interface Serving {
  app: Hono<ServeEnv>;
  /** The hot path served beside `app` (broker/serve/fast-lane.ts); pass it to `listen`. */
  fastLane?: FastLane;
  /** Only when `options.ops` is set. */
  opsApp?: Hono<ServeEnv>;
  /** The ops listener's lane (`/healthz`, `/readyz`, `/metrics`); only when `options.ops` is set. */
  opsFastLane?: FastLane;
  writers: readonly TokenFileWriter[];
  /** Stop the token-file writers (the files stay for the workload's own shutdown). */
  stop(): Promise<void>;
}

async function ensureDir(path: string, fileMode: number): Promise<void> {
  // Group may traverse only when files are shared with the group (0640).
  await mkdir(dirname(path), { recursive: true, mode: fileMode === 0o640 ? 0o750 : 0o700 });
}

/**
 * @example
 * const serving = await startServing({ source, options, log, metrics });
 * const listener = await listen(serving.app, options);
 */
export async function startServing(deps: {
  source: CredentialSource;
  options: ServeOptions;
  metrics?: ServeMetrics;
  log?: ServeLogger;
  clock?: Clock;
}): Promise<Serving> {
  const { source, options } = deps;
  const log = deps.log ?? quietLogger;
  const clock = deps.clock ?? systemClock;
  const issues = serveOptionIssues(options);
  if (issues.length > 0) throw new BrokerError("CONFIG_INVALID", `serve options: ${issues.join("; ")}`);
  const mode = options.fileMode;
  const secrets: ServeSecrets = {};
  const written = [
    options.aws.container?.authTokenFile,
    options.azure.appService?.secretFile,
    options.aws.credentialProcess?.configFile,
    options.aws.webIdentity?.tokenFile,
    options.azure.federatedTokenFile?.tokenFile,
  ].filter((p): p is string => p !== undefined);
  for (const path of written) {
    const removed = await removeStaleTempFiles(path);
    if (removed > 0) log.warn("removed temporary files left by an interrupted write", { file: path, count: removed });
  }

  if (options.aws.container) {
    await ensureDir(options.aws.container.authTokenFile, mode);
    secrets.awsContainerToken = await ensureSecretFile(options.aws.container.authTokenFile, mode, "rotate");
  }
  if (options.azure.appService) {
    await ensureDir(options.azure.appService.secretFile, mode);
    secrets.appServiceHeader = await ensureSecretFile(options.azure.appService.secretFile, mode, "reuse");
  }
  if (options.aws.credentialProcess) {
    const { configFile, command } = options.aws.credentialProcess;
    const names = source.awsTargets.map((t) => t.name);
    const first = names[0];
    if (first === undefined) throw new BrokerError("CONFIG_INVALID", "aws.credentialProcess is on but no AWS target is configured");
    await ensureDir(configFile, mode);
    await writeFileAtomic(configFile, awsConfigFile(command, names, first), mode);
  }

  const writers: TokenFileWriter[] = [];
  if (options.aws.webIdentity) {
    const { tokenFile, rewriteBeforeExpirySeconds } = options.aws.webIdentity;
    writers.push(
      new TokenFileWriter({
        name: "aws-web-identity-token",
        path: tokenFile,
        mode,
        audience: "aws",
        rewriteBeforeMs: rewriteBeforeExpirySeconds * 1000,
        source,
        clock,
        log,
      }),
    );
  }
  if (options.azure.federatedTokenFile) {
    const { tokenFile, rewriteBeforeExpirySeconds } = options.azure.federatedTokenFile;
    writers.push(
      new TokenFileWriter({
        name: "azure-federated-token",
        path: tokenFile,
        mode,
        audience: "azure",
        rewriteBeforeMs: rewriteBeforeExpirySeconds * 1000,
        source,
        clock,
        log,
      }),
    );
  }
  for (const writer of writers) await ensureDir(writer.path, mode);
  // The first attempt failing is not fatal: the writer retries and /readyz stays 503 meanwhile.
  await Promise.all(writers.map((w) => w.start()));

  const appDeps = { source, options, secrets, checks: writers, metrics: deps.metrics, log, clock };
  const requests = deps.metrics && { requests: requestCounter(deps.metrics) };
  const alsoHost = options.allowNonLoopback === true ? { alsoHost: options.host } : {};
  const ops = opsFastLane({
    source,
    checks: writers,
    log,
    retryAfterSeconds: options.retryAfterSeconds,
    ...(deps.metrics && { metrics: deps.metrics }),
    ...requests,
  });
  const fastLane = fastLanes([
    ...(options.aws.container && secrets.awsContainerToken
      ? [
          awsContainerFastLane({
            source,
            matchesSecret: secretMatcher(secrets.awsContainerToken),
            log,
            retryAfterSeconds: options.retryAfterSeconds,
            ...requests,
            ...alsoHost,
          }),
        ]
      : []),
    ...(options.azure.appService && secrets.appServiceHeader
      ? [
          azureAppServiceFastLane({
            source,
            defaultTarget: options.azure.defaultTarget,
            matchesSecret: secretMatcher(secrets.appServiceHeader),
            ...requests,
            ...alsoHost,
          }),
        ]
      : []),
    ops,
  ]);
  return {
    app: createApp(appDeps),
    ...(fastLane && { fastLane }),
    ...(options.ops ? { opsApp: createOpsApp(appDeps), opsFastLane: ops } : {}),
    writers,
    async stop() {
      await Promise.all(writers.map((w) => w.stop()));
    },
  };
}
