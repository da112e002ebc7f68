/**
 * The broker's HTTP surface: routes and middleware only. Everything that reads files, starts
 * timers or binds sockets lives elsewhere (broker/serve/start.ts, broker/serve/listen.ts).
 *
 * | route | protocol | auth |
 * |---|---|---|
 * | `GET /v1/aws/credentials/:target` | AWS container credentials | `Authorization` = token file content |
 * | `GET /v1/azure/msi/token` | Azure App Service managed identity | `X-IDENTITY-HEADER` |
 * | `GET /metadata/identity/oauth2/token[/]` | Azure IMDS | `Metadata: true`; loopback only |
 * | `GET /healthz`, `/readyz`, `/metrics` | operations | none, no secrets in answers |
 *
 * The agents' RFC 8693 endpoint (`POST /v1/token`, broker/agents/app.ts) is never mounted here: it
 * has its own HTTPS listener (broker/cli/serve.ts), so the plain-http credential listener stays on
 * loopback whatever agents are allowed.
 */
import { Hono, type MiddlewareHandler } from "hono";
import type { CredentialSource } from "./credentials.ts";
import { awsContainerHandler } from "./serve/aws-container.ts";
import { AZURE_APP_SERVICE_PATH, azureAppServiceHandler } from "./serve/azure-app-service.ts";
import { AZURE_IMDS_PATH, azureImdsHandler } from "./serve/azure-imds.ts";
import { healthzHandler, metricsHandler, readyzHandler, type ReadinessCheck } from "./serve/health.ts";
import { errorHandler } from "./serve/on-error.ts";
import type { ServeOptions } from "./serve/options.ts";
import { systemClock, type Clock } from "./clock.ts";
import { quietLogger, type ServeCounter, type ServeLogger, type ServeMetrics } from "./serve/ports.ts";
import type { ServeEnv } from "./serve/protocol.ts";
import { clientError } from "./serve/on-error.ts";
import { credentialRequestRefusal, extraAllowedHost } from "./serve/request-guard.ts";
import { secretMatcher } from "./serve/secret.ts";

/** The secrets written at start (see broker/serve/start.ts); required for the protocols that use them. */
export interface ServeSecrets {
  awsContainerToken?: string;
  appServiceHeader?: string;
}

export interface AppDeps {
  source: CredentialSource;
  options: ServeOptions;
  secrets?: ServeSecrets;
  /** Readiness beyond the credential targets (the token files). */
  checks?: readonly ReadinessCheck[];
  metrics?: ServeMetrics;
  log?: ServeLogger;
  clock?: Clock;
}

const requestCounters = new WeakMap<ServeMetrics, ServeCounter>();

/** The one `cloud_broker_http_requests_total` counter of a registry, shared by the apps and the fast lane. */
export function requestCounter(metrics: ServeMetrics): ServeCounter {
  let counter = requestCounters.get(metrics);
  if (counter === undefined) {
    counter = metrics.counter("cloud_broker_http_requests_total", "HTTP requests answered, by endpoint protocol and status.", [
      "protocol",
      "status",
    ]);
    requestCounters.set(metrics, counter);
  }
  return counter;
}

function baseApp(deps: Pick<AppDeps, "metrics" | "log" | "options">): Hono<ServeEnv> {
  const app = new Hono<ServeEnv>();
  app.onError(errorHandler({ log: deps.log ?? quietLogger, retryAfterSeconds: deps.options.retryAfterSeconds }));
  app.notFound((c) => c.json({ error: "not_found" }, 404));
  if (deps.metrics) {
    const requests = requestCounter(deps.metrics);
    app.use(async function countRequests(c, next) {
      await next();
      requests.inc({ protocol: c.get("protocol") ?? "other", status: String(c.res.status) });
    });
  }
  return app;
}

function opsRoutes(app: Hono<ServeEnv>, deps: AppDeps): void {
  app.get("/healthz", healthzHandler());
  app.get("/readyz", readyzHandler({ source: deps.source, checks: deps.checks ?? [] }));
  const metrics = deps.metrics;
  if (metrics) app.get("/metrics", metricsHandler({ render: () => metrics.render() }));
}

/** Refuses proxied requests and a non-loopback `Host` before any credential route runs (broker/serve/request-guard.ts). */
function credentialGuard(options: ServeOptions, allowImdsHost = false): MiddlewareHandler<ServeEnv> {
  const alsoHost = extraAllowedHost(options);
  return async function guardCredentialRequest(c, next) {
    // @hono/node-server builds the URL from the Host header (and refuses a request without one); app.request() in tests may send none.
    const host = c.req.header("host") ?? new URL(c.req.url).host;
    const refusal = credentialRequestRefusal(c.req.raw.headers.keys(), host, {
      allowImdsHost,
      ...(alsoHost !== undefined && { alsoHost }),
    });
    if (refusal !== undefined) throw clientError("BAD_REQUEST", refusal);
    await next();
  };
}

/**
 * The credential listener's app: every enabled delivery protocol plus the operational endpoints.
 *
 * @example
 * const app = createApp({ source, options, secrets: { awsContainerToken }, log, metrics });
 * const res = await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: awsContainerToken } });
 */
export function createApp(deps: AppDeps): Hono<ServeEnv> {
  const { source, options, secrets = {} } = deps;
  const app = baseApp(deps);
  if (options.aws.container) {
    if (!secrets.awsContainerToken) throw new TypeError("aws.container is on but no awsContainerToken secret was given");
    app.get(
      "/v1/aws/credentials/:target",
      credentialGuard(options),
      awsContainerHandler({ source, matchesSecret: secretMatcher(secrets.awsContainerToken) }),
    );
  }
  if (options.azure.appService) {
    if (!secrets.appServiceHeader) throw new TypeError("azure.appService is on but no appServiceHeader secret was given");
    app.get(
      AZURE_APP_SERVICE_PATH,
      credentialGuard(options),
      azureAppServiceHandler({
        source,
        defaultTarget: options.azure.defaultTarget,
        matchesSecret: secretMatcher(secrets.appServiceHeader),
      }),
    );
  }
  if (options.azure.imds) {
    const imds = azureImdsHandler({ source, defaultTarget: options.azure.defaultTarget, clock: deps.clock ?? systemClock });
    const guard = credentialGuard(options, true);
    // `@azure/identity` adds a trailing slash; MSAL4J (Java) asks for `//metadata/…` (double slash).
    for (const path of [AZURE_IMDS_PATH, `${AZURE_IMDS_PATH}/`, `/${AZURE_IMDS_PATH}`]) app.get(path, guard, imds);
  }
  opsRoutes(app, deps);
  return app;
}

/** The ops listener's app: `/healthz`, `/readyz`, `/metrics` only (never credentials). */
export function createOpsApp(deps: AppDeps): Hono<ServeEnv> {
  const app = baseApp(deps);
  opsRoutes(app, deps);
  return app;
}
