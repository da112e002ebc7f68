/**
 * The {@link CredentialSource} the serving layer uses: the workload token source, the AWS and
 * Azure exchanges, each behind a {@link RefreshingCache}, composed as
 *
 *   Keycloak token (per audience, cached) → AssumeRoleWithWebIdentity / Entra (per target, cached)
 *
 * `start()` keeps every configured target warm (background refresh); readiness is every target
 * holding valid credentials.
 */
import type { Config } from "./config.ts";
import { systemClock, type TimerClock } from "./clock.ts";
import { registerCredentialMetrics, type CredentialMetrics, type TargetGauge, type Upstream } from "./cache/metrics.ts";
import type { TimingPolicy } from "./cache/policy.ts";
import { RefreshingCache, type CacheObserver, type Fetched } from "./cache/refreshing-cache.ts";
import {
  resourceOf,
  type AwsCredentials,
  type AwsTargetRef,
  type AzureAccessToken,
  type AzureTargetRef,
  type CredentialSource,
  type TargetStatus,
} from "./credentials.ts";
import { BrokerError, ERRORS } from "./errors.ts";
import type { AwsExchanger } from "./exchange/aws-sts.ts";
import type { AzureExchanger } from "./exchange/azure-entra.ts";
import { roleSessionName } from "./exchange/role-session-name.ts";
import { tokenFingerprint, type Logger } from "./log.ts";
import type { MetricsRegistry } from "./metrics.ts";
import type { Audience, WorkloadToken, WorkloadTokenSource } from "./token-source/token-source.ts";

export interface CredentialSourceDeps {
  config: Config;
  tokenSource: WorkloadTokenSource;
  /** Required when `config.aws` is set. */
  aws?: AwsExchanger;
  /** Required when `config.azure` is set. */
  azure?: AzureExchanger;
  logger: Logger;
  metrics: MetricsRegistry;
  clock?: TimerClock;
  random?: () => number;
}

/** A CredentialSource with a lifecycle. */
export interface BrokerCredentialSource extends CredentialSource {
  /** Starts the background refresh of every configured target (and its workload token). */
  start(): void;
  /** Stops all background refreshes. */
  stop(): void;
  /** Every configured target holds valid credentials. */
  ready(): boolean;
}

/** The cache timing from the `refresh` section of the config. */
export function timingPolicy(refresh: Config["refresh"]): TimingPolicy {
  return {
    aheadMs: refresh.aheadSeconds * 1000,
    jitterMs: refresh.jitterSeconds * 1000,
    stopServingMs: refresh.stopServingSeconds * 1000,
    retryMinMs: refresh.retryMinSeconds * 1000,
    retryMaxMs: refresh.retryMaxSeconds * 1000,
  };
}

/** An upstream error that means "no": the cached credentials must not be served any more. */
export function isIrrecoverable(error: unknown): boolean {
  return error instanceof BrokerError && !ERRORS[error.code].retryable;
}

function errorCode(error: unknown): string {
  return error instanceof BrokerError ? error.code : "INTERNAL";
}

const AZURE_KEY_SEPARATOR = "\n";

/** The configured scope `scope` names (its first one when none is asked), or `undefined`. */
function configuredScope(identity: { scopes: readonly string[] }, scope: string | undefined): string | undefined {
  return scope === undefined ? identity.scopes[0] : identity.scopes.find((s) => resourceOf(s) === resourceOf(scope));
}

/** The targets of a config, as the serving layer names them. */
export function configuredTargets(config: Config): { aws: AwsTargetRef[]; azure: AzureTargetRef[] } {
  return {
    aws: (config.aws?.roles ?? []).map((r) => ({ name: r.name, roleArn: r.arn })),
    azure: (config.azure?.identities ?? []).map((i) => ({
      name: i.name,
      tenantId: i.tenantId,
      clientId: i.clientId,
      scopes: [...i.scopes],
    })),
  };
}

export function createCredentialSource(deps: CredentialSourceDeps): BrokerCredentialSource {
  const { config, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const policy = timingPolicy(config.refresh);
  const roles = new Map((config.aws?.roles ?? []).map((r) => [r.name, r]));
  const identities = new Map((config.azure?.identities ?? []).map((i) => [i.name, i]));
  if (roles.size > 0 && !deps.aws) throw new TypeError("AWS roles are configured but no AWS exchanger was given");
  if (identities.size > 0 && !deps.azure) throw new TypeError("Azure identities are configured but no Azure exchanger was given");

  const { aws: awsTargets, azure: azureTargets } = configuredTargets(config);
  const audiences: Audience[] = [...(roles.size > 0 ? (["aws"] as const) : []), ...(identities.size > 0 ? (["azure"] as const) : [])];

  // Read at scrape time only, when every cache below exists.
  const metrics: CredentialMetrics = registerCredentialMetrics(
    deps.metrics,
    () => gauges(),
    () => clock.now(),
  );
  const timed = async <T>(upstream: Upstream, call: () => Promise<T>): Promise<T> => {
    const started = clock.now();
    try {
      const result = await call();
      metrics.upstreamCalls.inc({ upstream, outcome: "ok" });
      return result;
    } catch (error) {
      metrics.upstreamCalls.inc({ upstream, outcome: errorCode(error) });
      throw error;
    } finally {
      metrics.upstreamDuration.observe({ upstream }, (clock.now() - started) / 1000);
    }
  };

  const observer = (cloud: "keycloak" | "aws" | "azure", describe: (key: string) => Record<string, string>): CacheObserver => {
    // A hit is counted on every credential request: one bound increment per key (the keys are the configured targets).
    const hits = new Map<string, () => void>();
    return {
      hit: (key) => {
        if (cloud === "keycloak") return;
        let count = hits.get(key);
        if (count === undefined) {
          count = metrics.cacheHits.bound({ cloud, ...labels(key) });
          hits.set(key, count);
        }
        count();
      },
      miss: (key) => {
        if (cloud !== "keycloak") metrics.cacheMisses.inc({ cloud, ...labels(key) });
      },
      fetched: (key, outcome) => {
        const fields = { cloud, ...describe(key), background: outcome.background, durationMs: outcome.durationMs };
        if (outcome.ok) logger.info("credentials refreshed", { ...fields, expiresAt: new Date(outcome.expiresAt) });
        else logger.warn("credentials refresh failed", { ...fields, err: outcome.error });
      },
      evicted: (key, error) => logger.warn("credentials evicted after an irrecoverable error", { cloud, ...describe(key), err: error }),
    };
  };
  const labels = (key: string) => {
    const [target = key, scope = ""] = key.split(AZURE_KEY_SEPARATOR);
    return { target, scope };
  };
  const common = {
    policy,
    clock,
    ...(deps.random && { random: deps.random }),
    isIrrecoverable,
    expiringError: (key: string, cause: unknown) =>
      new BrokerError(
        "CREDENTIALS_EXPIRING",
        `credentials for ${labels(key).target} expire soon and cannot be refreshed right now; retry shortly`,
        { cause },
      ),
  };

  const tokens = new RefreshingCache<WorkloadToken>({
    ...common,
    fetch: async (audience): Promise<Fetched<WorkloadToken>> => {
      const token = await timed("keycloak", () => deps.tokenSource.fetch(audience as Audience));
      logger.debug("workload token", { audience, token_sha256: tokenFingerprint(token.token), expiresAt: token.expiresAt });
      return { value: token, expiresAt: token.expiresAt.getTime() };
    },
    observer: observer("keycloak", (audience) => ({ audience })),
  });

  /** The token for an exchange; when none can be had, the root cause (not the token cache's CREDENTIALS_EXPIRING). */
  const tokenForExchange = async (audience: Audience): Promise<WorkloadToken> => {
    try {
      return (await tokens.get(audience)).value;
    } catch (error) {
      if (error instanceof BrokerError && error.code === "CREDENTIALS_EXPIRING" && error.cause instanceof Error) throw error.cause;
      throw error;
    }
  };

  const awsCache = new RefreshingCache<AwsCredentials>({
    ...common,
    fetch: async (name) => {
      const role = roles.get(name);
      if (!role || !deps.aws) throw new BrokerError("UNKNOWN_TARGET", `no AWS target ${name}`);
      const token = await tokenForExchange("aws");
      const exchanger = deps.aws;
      try {
        const creds = await timed("aws", () =>
          exchanger.assumeRole({
            roleArn: role.arn,
            sessionName: role.sessionName ?? roleSessionName(config.clientId, role.name),
            durationSeconds: role.durationSeconds,
            ...(role.sessionPolicy !== undefined && { policy: role.sessionPolicy }),
            webIdentityToken: token.token,
          }),
        );
        logger.debug("assumed role", {
          target: name,
          accessKeyId: creds.accessKeyId,
          assumedRoleArn: creds.assumedRoleArn,
          token_sha256: tokenFingerprint(token.token),
        });
        return { value: creds, expiresAt: creds.expiration.getTime() };
      } catch (error) {
        // STS refused this token (expired, key rotated, claims changed): the next attempt gets a fresh one.
        if (isIrrecoverable(error)) tokens.invalidate("aws");
        throw error;
      }
    },
    observer: observer("aws", (target) => ({ target })),
  });

  const azureCache = new RefreshingCache<AzureAccessToken>({
    ...common,
    fetch: async (key) => {
      const { target: name, scope } = labels(key);
      const identity = identities.get(name);
      if (!identity || !deps.azure) throw new BrokerError("UNKNOWN_TARGET", `no Azure target ${name}`);
      const token = await tokenForExchange("azure");
      const exchanger = deps.azure;
      try {
        const result = await timed("azure", () =>
          exchanger.getToken({ tenantId: identity.tenantId, clientId: identity.clientId, scope, assertion: token.token }),
        );
        return {
          value: {
            accessToken: result.accessToken,
            expiresOn: result.expiresOn,
            resource: resourceOf(scope),
            clientId: identity.clientId,
            tenantId: identity.tenantId,
          },
          expiresAt: result.expiresOn.getTime(),
        };
      } catch (error) {
        if (isIrrecoverable(error)) tokens.invalidate("azure");
        throw error;
      }
    },
    observer: observer("azure", (key) => labels(key)),
  });

  const azureKeys = () => azureTargets.flatMap((t) => t.scopes.map((scope) => `${t.name}${AZURE_KEY_SEPARATOR}${scope}`));

  const gauges = (): TargetGauge[] => [
    ...awsTargets.map((t) => {
      const s = awsCache.status(t.name);
      return {
        cloud: "aws" as const,
        target: t.name,
        scope: "",
        ready: s.ready,
        ...(s.expiresAt !== undefined && { expiresAt: s.expiresAt }),
      };
    }),
    ...azureKeys().map((key) => {
      const s = azureCache.status(key);
      return { cloud: "azure" as const, ...labels(key), ready: s.ready, ...(s.expiresAt !== undefined && { expiresAt: s.expiresAt }) };
    }),
  ];

  const lastErrorText = (error: unknown): string | undefined =>
    error === undefined ? undefined : error instanceof BrokerError ? `${error.code}: ${error.message}` : "INTERNAL";

  const source: BrokerCredentialSource = {
    awsTargets,
    azureTargets,

    async aws(target) {
      if (!roles.has(target)) throw new BrokerError("UNKNOWN_TARGET", `no AWS target named ${target}`);
      return (await awsCache.get(target)).value;
    },

    awsIfCached(target) {
      return roles.has(target) ? awsCache.getIfServable(target)?.value : undefined;
    },

    async azure(target, scope) {
      const identity = identities.get(target);
      if (!identity) throw new BrokerError("UNKNOWN_TARGET", `no Azure target named ${target}`);
      const wanted = configuredScope(identity, scope);
      if (wanted === undefined) throw new BrokerError("BAD_REQUEST", `scope ${scope ?? ""} is not configured for Azure target ${target}`);
      return (await azureCache.get(`${target}${AZURE_KEY_SEPARATOR}${wanted}`)).value;
    },

    azureIfCached(target, scope) {
      const identity = identities.get(target);
      const wanted = identity && configuredScope(identity, scope);
      return wanted === undefined ? undefined : azureCache.getIfServable(`${target}${AZURE_KEY_SEPARATOR}${wanted}`)?.value;
    },

    async workloadToken(audience) {
      if (!audiences.includes(audience))
        throw new BrokerError("UNKNOWN_TARGET", `no ${audience} target is configured, so no ${audience} workload token is kept`);
      const { value } = await tokens.get(audience);
      return { token: value.token, expiresAt: value.expiresAt };
    },

    status(): TargetStatus[] {
      const aws = awsTargets.map((t): TargetStatus => {
        const s = awsCache.status(t.name);
        const lastError = lastErrorText(s.lastError);
        return {
          target: t.name,
          cloud: "aws",
          ready: s.ready,
          ...(s.expiresAt !== undefined && { expiresAt: new Date(s.expiresAt) }),
          ...(lastError && { lastError }),
        };
      });
      const azure = azureTargets.map((t): TargetStatus => {
        const all = t.scopes.map((scope) => azureCache.status(`${t.name}${AZURE_KEY_SEPARATOR}${scope}`));
        const expiries = all.flatMap((s) => (s.expiresAt === undefined ? [] : [s.expiresAt]));
        const lastError = lastErrorText(all.find((s) => s.lastError !== undefined)?.lastError);
        return {
          target: t.name,
          cloud: "azure",
          ready: all.every((s) => s.ready),
          ...(expiries.length === all.length && { expiresAt: new Date(Math.min(...expiries)) }),
          ...(lastError && { lastError }),
        };
      });
      return [...aws, ...azure];
    },

    ready() {
      return source.status().every((s) => s.ready);
    },

    start() {
      tokens.warm(audiences);
      awsCache.warm(awsTargets.map((t) => t.name));
      azureCache.warm(azureKeys());
    },

    stop() {
      tokens.stop();
      awsCache.stop();
      azureCache.stop();
    },
  };
  return source;
}
