/**
 * AWS container credentials: what the SDKs call when `AWS_CONTAINER_CREDENTIALS_FULL_URI` points
 * here. `GET /v1/aws/credentials/<target>` with `Authorization: <contents of
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE>` (raw, no scheme) answers
 * `{AccessKeyId, SecretAccessKey, Token, Expiration, AccountId}`.
 *
 * Wire facts (checked in the SDK sources):
 * - JS v3 `fromHttp` requires the four string fields and parses `Expiration` with a strict RFC 3339
 *   pattern ending in `Z`; `fromContainerMetadata` uses `new Date(Expiration)` and keeps `AccountId`.
 * - botocore `ContainerProvider` reads the same keys (`AccountId` optional) and parses `Expiration`
 *   with dateutil.
 * - `fromContainerMetadata` accepts only the host names `localhost` and `127.0.0.1`, and only the
 *   token from `AWS_CONTAINER_AUTHORIZATION_TOKEN` (not the file), so the default chain's `fromHttp`
 *   is the path that matters; both work against this endpoint.
 * See https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html
 */
import type { Context } from "hono";
import type { AwsCredentials, CredentialSource } from "../credentials.ts";
import { clientError } from "./on-error.ts";
import type { ServeEnv } from "./protocol.ts";

export const AWS_CONTAINER_PATH_PREFIX = "/v1/aws/credentials/";

/** The container-credentials URL of one target, e.g. `http://127.0.0.1:8999/v1/aws/credentials/s3-reader`. */
export function awsContainerUrl(baseUrl: string, target: string): string {
  return `${baseUrl}${AWS_CONTAINER_PATH_PREFIX}${encodeURIComponent(target)}`;
}

/** RFC 3339 in UTC, whole seconds, ending in `Z` (what ECS sends; both SDKs parse it). */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The response body for `creds`. */
export function formatContainerCredentials(creds: AwsCredentials): string {
  return JSON.stringify({
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    Token: creds.sessionToken,
    Expiration: rfc3339(creds.expiration),
    AccountId: creds.accountId,
  });
}

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" } as const;

/**
 * The route handler. Checks the secret before anything else (an unauthenticated caller learns
 * nothing, not even which targets exist), then serves the cached, pre-serialized body.
 */
export function awsContainerHandler(deps: {
  source: Pick<CredentialSource, "aws" | "awsTargets">;
  matchesSecret: (presented: string | undefined) => boolean;
}) {
  const targets = new Set(deps.source.awsTargets.map((t) => t.name));
  // One serialization per credential version: the source hands out the same object until it refreshes.
  const bodies = new WeakMap<AwsCredentials, string>();
  return async function serveAwsContainer(c: Context<ServeEnv, "/v1/aws/credentials/:target">): Promise<Response> {
    c.set("protocol", "aws-container");
    if (!deps.matchesSecret(c.req.header("authorization"))) throw clientError("UNAUTHORIZED", "unauthorized");
    const target = c.req.param("target");
    if (!targets.has(target)) throw clientError("UNKNOWN_TARGET", "no such AWS target");
    const creds = await deps.source.aws(target);
    let body = bodies.get(creds);
    if (body === undefined) {
      body = formatContainerCredentials(creds);
      bodies.set(creds, body);
    }
    return c.body(body, 200, JSON_HEADERS);
  };
}
