/**
 * The hot paths beside the Hono app. The calls every SDK in the pod makes over and over — AWS
 * container credentials and the Azure App Service token — and the probes and scrapes of the
 * platform (`/healthz`, `/readyz`, `/metrics`) are answered straight from `node:http`: the cached,
 * pre-serialized body, no web Request/Response objects, no promise when the cache holds servable
 * credentials, one write. So a pod that only serves its SDKs and its probes never loads Node's
 * fetch machinery (undici, about 8 MB resident) nor the Hono adapter. Everything else — another
 * route, a missing or wrong secret, an unknown target, a query the lane does not read exactly as
 * the app would — goes to the Hono app unchanged, so refusals keep their single code path; errors
 * from the credential source are answered with the same {@link errorAnswer} the app's `onError` uses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AwsCredentials, CredentialSource } from "../credentials.ts";
import { AWS_CONTAINER_PATH_PREFIX, formatContainerCredentials } from "./aws-container.ts";
import { appServiceBodies, appServiceRequest, AZURE_APP_SERVICE_PATH, type AppServiceRequest } from "./azure-app-service.ts";
import { azureResolver } from "./azure-resource.ts";
import { HEALTHZ, OPS_PATHS, PROMETHEUS_TEXT, readyzAnswer, type ReadinessCheck } from "./health.ts";
import { guardedSecret, hostAllower } from "./lane-headers.ts";
import { errorAnswer } from "./on-error.ts";
import type { ServeCounter, ServeLogger } from "./ports.ts";

/** Answers the request and returns true, or returns false and leaves it untouched for the app. */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

const JSON_NO_STORE = { "content-type": "application/json", "cache-control": "no-store" } as const;

/** The lanes tried in order; the first that answers wins. */
export function fastLanes(lanes: readonly FastLane[]): FastLane | undefined {
  if (lanes.length === 0) return undefined;
  if (lanes.length === 1) return lanes[0];
  return function anyFastLane(req, res) {
    for (const lane of lanes) if (lane(req, res)) return true;
    return false;
  };
}

/** A 200 answer prepared once per body: the bytes and the raw header list. */
interface Prepared {
  body: Buffer;
  headers: string[];
}

function prepare(body: string): Prepared {
  const bytes = Buffer.from(body);
  return {
    body: bytes,
    headers: [
      "content-type",
      JSON_NO_STORE["content-type"],
      "cache-control",
      JSON_NO_STORE["cache-control"],
      "content-length",
      String(bytes.length),
    ],
  };
}

function send(res: ServerResponse, answer: Prepared): void {
  res.writeHead(200, answer.headers);
  res.end(answer.body);
}

export function awsContainerFastLane(deps: {
  source: Pick<CredentialSource, "aws" | "awsIfCached" | "awsTargets">;
  matchesSecret: (presented: string | undefined) => boolean;
  log: ServeLogger;
  retryAfterSeconds: number;
  requests?: ServeCounter;
  /** The listener's own host when a non-loopback bind is allowed (request-guard.ts). */
  alsoHost?: string;
}): FastLane {
  const targets = new Set(deps.source.awsTargets.map((t) => t.name));
  // The path each SDK is given (awsContainerUrl) is looked up as is; any other spelling is decoded.
  const byPath = new Map([...targets].map((name) => [`${AWS_CONTAINER_PATH_PREFIX}${encodeURIComponent(name)}`, name]));
  const answers = new WeakMap<AwsCredentials, Prepared>();
  const hostAllowed = hostAllower(deps.alsoHost);
  const served = deps.requests?.bound({ protocol: "aws-container", status: "200" });
  const count = (status: number) => deps.requests?.inc({ protocol: "aws-container", status: String(status) });

  const sendCredentials = (res: ServerResponse, creds: AwsCredentials) => {
    let answer = answers.get(creds);
    if (answer === undefined) {
      answer = prepare(formatContainerCredentials(creds));
      answers.set(creds, answer);
    }
    send(res, answer);
    served?.();
  };

  const targetOf = (url: string): string | undefined => {
    const known = byPath.get(url);
    if (known !== undefined) return known;
    try {
      const target = decodeURIComponent(url.slice(AWS_CONTAINER_PATH_PREFIX.length));
      return targets.has(target) ? target : undefined;
    } catch {
      return undefined;
    }
  };

  return function fastAwsContainer(req, res) {
    const url = req.url;
    if (req.method !== "GET" || url === undefined || !url.startsWith(AWS_CONTAINER_PATH_PREFIX) || url.includes("?")) return false;
    const target = targetOf(url);
    // A wrong secret, a proxied request or a foreign Host goes to the app, which refuses it with the same guard.
    if (target === undefined || !deps.matchesSecret(guardedSecret(req.rawHeaders, "authorization", hostAllowed))) return false;

    const cached = deps.source.awsIfCached?.(target);
    if (cached) {
      sendCredentials(res, cached);
      return true;
    }
    deps.source.aws(target).then(
      (creds) => sendCredentials(res, creds),
      (error: unknown) => {
        const answer = errorAnswer(error, "aws-container", url, deps);
        const body = JSON.stringify(answer.body);
        res.writeHead(answer.status, { ...answer.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
        count(answer.status);
      },
    );
    return true;
  };
}

/**
 * The query of a request target, first value of each name, decoded as the app decodes it (`+` is a
 * space, percent-escapes are UTF-8); `undefined` when an escape is malformed (the app then answers).
 */
export function firstQueryValues(query: string): Map<string, string> | undefined {
  const values = new Map<string, string>();
  try {
    for (const pair of query.split("&")) {
      const eq = pair.indexOf("=");
      const name = decodeURIComponent((eq === -1 ? pair : pair.slice(0, eq)).replace(/\+/g, " "));
      if (name === "" || values.has(name)) continue;
      values.set(name, eq === -1 ? "" : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, " ")));
    }
  } catch {
    return undefined;
  }
  return values;
}

/** Distinct request targets whose query meaning is remembered (an SDK repeats one URL; a bound against any other). */
const MAX_REMEMBERED_QUERIES = 32;

/** The Azure App Service token endpoint, answered from the cache's synchronous hit path only. */
export function azureAppServiceFastLane(deps: {
  source: Pick<CredentialSource, "azureIfCached" | "azureTargets">;
  defaultTarget?: string;
  matchesSecret: (presented: string | undefined) => boolean;
  requests?: ServeCounter;
  /** The listener's own host when a non-loopback bind is allowed (request-guard.ts). */
  alsoHost?: string;
}): FastLane {
  const resolve = azureResolver(deps.source.azureTargets, deps.defaultTarget);
  const hostAllowed = hostAllower(deps.alsoHost);
  const served = deps.requests?.bound({ protocol: "azure-app-service", status: "200" });
  const answerFor = appServiceBodies(prepare);
  const prefix = `${AZURE_APP_SERVICE_PATH}?`;
  // The checked meaning of a request target is a pure function of the URL and the configuration.
  const meanings = new Map<string, AppServiceRequest>();
  const meaningOf = (url: string): AppServiceRequest | undefined => {
    const known = meanings.get(url);
    if (known) return known;
    const query = firstQueryValues(url.slice(prefix.length));
    if (!query) return undefined;
    let asked: AppServiceRequest;
    try {
      asked = appServiceRequest((name) => query.get(name), resolve);
    } catch {
      return undefined; // the app refuses it, with its own answer
    }
    if (meanings.size < MAX_REMEMBERED_QUERIES) meanings.set(url, asked);
    return asked;
  };
  return function fastAzureAppService(req, res) {
    const url = req.url;
    if (req.method !== "GET" || url === undefined || !url.startsWith(prefix) || !deps.source.azureIfCached) return false;
    // A wrong secret, a proxied request or a foreign Host goes to the app, which refuses it with the same guard.
    if (!deps.matchesSecret(guardedSecret(req.rawHeaders, "x-identity-header", hostAllowed))) return false;
    const asked = meaningOf(url);
    if (!asked) return false;
    const token = deps.source.azureIfCached(asked.target, asked.scope);
    if (!token) return false; // the app waits for the refresh or maps the failure
    send(res, answerFor(token, asked.resource));
    served?.();
    return true;
  };
}

/**
 * `GET /healthz`, `/readyz` and `/metrics`: what the kubelet and Prometheus call all day, on the
 * credential listener and on the ops listener alike. Same answers as the app's routes
 * (broker/serve/health.ts computes both).
 */
export function opsFastLane(deps: {
  source: Pick<CredentialSource, "status">;
  checks: readonly ReadinessCheck[];
  metrics?: { render(): Promise<string> };
  log: ServeLogger;
  retryAfterSeconds: number;
  requests?: ServeCounter;
}): FastLane {
  const count = (status: number) => deps.requests?.inc({ protocol: "ops", status: String(status) });
  const json = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
    res.end(text);
    count(status);
  };
  return function fastOps(req, res) {
    if (req.method !== "GET") return false;
    switch (req.url) {
      case OPS_PATHS.healthz:
        json(res, HEALTHZ.status, HEALTHZ.body);
        return true;
      case OPS_PATHS.readyz: {
        const answer = readyzAnswer(deps);
        json(res, answer.status, answer.body);
        return true;
      }
      case OPS_PATHS.metrics: {
        const metrics = deps.metrics;
        if (!metrics) return false;
        metrics.render().then(
          (text) => {
            res.writeHead(200, { "content-type": PROMETHEUS_TEXT, "content-length": Buffer.byteLength(text) });
            res.end(text);
            count(200);
          },
          (error: unknown) => {
            const answer = errorAnswer(error, "ops", OPS_PATHS.metrics, deps);
            const body = JSON.stringify(answer.body);
            res.writeHead(answer.status, {
              ...answer.headers,
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            });
            res.end(body);
            count(answer.status);
          },
        );
        return true;
      }
      default:
        return false;
    }
  };
}
