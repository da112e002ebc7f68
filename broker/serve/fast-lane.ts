/**
 * The hot path beside the Hono app. A successful AWS container-credentials request (the call every
 * AWS SDK in the pod makes, over and over) is answered straight from `node:http` with the cached,
 * pre-serialized body: no web Request/Response objects, no promise when the cache holds servable
 * credentials, one write. Everything else — another route,
 * a query string, a missing or wrong secret, an unknown target — goes to the Hono app unchanged, so
 * refusals keep their single code path; errors from the credential source are answered with the
 * same {@link errorAnswer} the app's `onError` uses.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AwsCredentials, CredentialSource } from "../credentials.ts";
import { AWS_CONTAINER_PATH_PREFIX, formatContainerCredentials } from "./aws-container.ts";
import { errorAnswer } from "./on-error.ts";
import type { ServeCounter, ServeLogger } from "./ports.ts";

/** Answers the request and returns true, or returns false and leaves it untouched for the app. */
export type FastLane = (req: IncomingMessage, res: ServerResponse) => boolean;

export function awsContainerFastLane(deps: {
  source: Pick<CredentialSource, "aws" | "awsIfCached" | "awsTargets">;
  matchesSecret: (presented: string | undefined) => boolean;
  log: ServeLogger;
  retryAfterSeconds: number;
  requests?: ServeCounter;
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
    res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store", "content-length": body.length });
    res.end(body);
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
