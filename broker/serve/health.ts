/**
 * Operational endpoints: `/healthz` (the process answers), `/readyz` (every configured target
 * holds valid credentials and every token file has been written: 503 until then), `/metrics`
 * (Prometheus text). They carry no secret and reveal no error detail, so they may also be served
 * on the ops listener that kubelet probes and Prometheus reach.
 *
 * The answers are computed here once, for two adapters: the node:http lane that answers the probes
 * and scrapes (broker/serve/fast-lane.ts, no web Request/Response) and the Hono routes.
 */
import type { Context } from "hono";
import type { CredentialSource } from "../credentials.ts";
import type { ServeEnv } from "./protocol.ts";

/** Something besides the credential targets that must be in place before the broker is ready. */
export interface ReadinessCheck {
  name: string;
  ready(): boolean;
}

/** `Content-Type` of the Prometheus text exposition format 0.0.4. */
export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

export const OPS_PATHS = { healthz: "/healthz", readyz: "/readyz", metrics: "/metrics" } as const;

export interface OpsAnswer {
  status: number;
  /** JSON for the probes, text for `/metrics`. */
  body: unknown;
}

export const HEALTHZ: OpsAnswer = { status: 200, body: { status: "ok" } };

export function readyzAnswer(deps: { source: Pick<CredentialSource, "status">; checks: readonly ReadinessCheck[] }): OpsAnswer {
  const targets = deps.source.status().map((s) => ({ name: s.target, cloud: s.cloud, ready: s.ready }));
  const files = deps.checks.map((check) => ({ name: check.name, ready: check.ready() }));
  const ready = targets.every((t) => t.ready) && files.every((f) => f.ready);
  return { status: ready ? 200 : 503, body: { status: ready ? "ready" : "not ready", targets, files } };
}

export function healthzHandler() {
  return function serveHealthz(c: Context<ServeEnv>): Response {
    c.set("protocol", "ops");
    return c.json(HEALTHZ.body, 200);
  };
}

export function readyzHandler(deps: { source: Pick<CredentialSource, "status">; checks: readonly ReadinessCheck[] }) {
  return function serveReadyz(c: Context<ServeEnv>): Response {
    c.set("protocol", "ops");
    const answer = readyzAnswer(deps);
    return c.json(answer.body, answer.status as 200);
  };
}

export function metricsHandler(deps: { render: () => Promise<string> }) {
  return async function serveMetrics(c: Context<ServeEnv>): Promise<Response> {
    c.set("protocol", "ops");
    return c.body(await deps.render(), 200, { "Content-Type": PROMETHEUS_TEXT });
  };
}
