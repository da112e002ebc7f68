/**
 * The hot paths beside the Hono app. The calls every SDK in the pod makes over and over — AWS
 * container credentials and the Azure App Service token — are answered straight from `node:http`
 * with the cached, pre-serialized body: no web Request/Response objects, no promise when the cache
 * holds servable credentials, one write. Everything else — another route, a missing or wrong
 * secret, an unknown target, a query the lane does not read exactly as the app would — goes to the
 * Hono app unchanged, so refusals keep their single code path; errors from the credential source
 * are answered with the same {@link errorAnswer} the app's `onError` uses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AwsCredentials, CredentialSource } from "../credentials.ts";
import { AWS_CONTAINER_PATH_PREFIX, formatContainerCredentials } from "./aws-container.ts";
import { appServiceBodies, appServiceRequest, AZURE_APP_SERVICE_PATH } from "./azure-app-service.ts";
import { azureResolver } from "./azure-resource.ts";
import { errorAnswer } from "./on-error.ts";
import type { ServeCounter, ServeLogger } from "./ports.ts";
import { credentialRequestRefusal } from "./request-guard.ts";

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

function sendBody(res: ServerResponse, body: Buffer | string): void {
  res.writeHead(200, { ...JSON_NO_STORE, "content-length": typeof body === "string" ? Buffer.byteLength(body) : body.length });
  res.end(body);
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
  const bodies = new WeakMap<AwsCredentials, Buffer>();
  const count = (status: number) => deps.requests?.inc({ protocol: "aws-container", status: String(status) });

  const send = (res: ServerResponse, creds: AwsCredentials) => {
    let body = bodies.get(creds);
    if (body === undefined) {
      body = Buffer.from(formatContainerCredentials(creds));
      bodies.set(creds, body);
    }
    sendBody(res, body);
    count(200);
  };

  return function fastAwsContainer(req, res) {
    const url = req.url;
    if (req.method !== "GET" || url === undefined || !url.startsWith(AWS_CONTAINER_PATH_PREFIX) || url.includes("?")) return false;
    let target: string;
    try {
      target = decodeURIComponent(url.slice(AWS_CONTAINER_PATH_PREFIX.length));
    } catch {
      return false;
    }
    if (!targets.has(target) || !deps.matchesSecret(req.headers.authorization)) return false;
    // A proxied request or a foreign Host goes to the app, which refuses it with the same guard.
    if (credentialRequestRefusal(Object.keys(req.headers), req.headers.host, deps.alsoHost !== undefined ? { alsoHost: deps.alsoHost } : {}) !== undefined) return false;

    const cached = deps.source.awsIfCached?.(target);
    if (cached) {
      send(res, cached);
      return true;
    }
    deps.source.aws(target).then(
      (creds) => send(res, creds),
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
  const bodyFor = appServiceBodies();
  const prefix = `${AZURE_APP_SERVICE_PATH}?`;
  return function fastAzureAppService(req, res) {
    const url = req.url;
    if (req.method !== "GET" || url === undefined || !url.startsWith(prefix) || !deps.source.azureIfCached) return false;
    const header = req.headers["x-identity-header"];
    if (typeof header !== "string" || !deps.matchesSecret(header)) return false;
    // A proxied request or a foreign Host goes to the app, which refuses it with the same guard.
    if (credentialRequestRefusal(Object.keys(req.headers), req.headers.host, deps.alsoHost !== undefined ? { alsoHost: deps.alsoHost } : {}) !== undefined) return false;
    const query = firstQueryValues(url.slice(prefix.length));
    if (!query) return false;
    let asked;
    try {
      asked = appServiceRequest((name) => query.get(name), resolve);
    } catch {
      return false; // the app refuses it, with its own answer
    }
    const token = deps.source.azureIfCached(asked.target, asked.scope);
    if (!token) return false; // the app waits for the refresh or maps the failure
    sendBody(res, bodyFor(token, asked.resource));
    deps.requests?.inc({ protocol: "azure-app-service", status: "200" });
    return true;
  };
}
