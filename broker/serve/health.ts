/**
 * Operational endpoints: `/healthz` (the process answers), `/readyz` (every configured target
 * holds valid credentials and every token file has been written: 503 until then), `/metrics`
 * (Prometheus text). They carry no secret and reveal no error detail, so they may also be served
 * on the ops listener that kubelet probes and Prometheus reach.
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

export function healthzHandler() {
  return function serveHealthz(c: Context<ServeEnv>): Response {
    c.set("protocol", "ops");
    return c.json({ status: "ok" });
  };
}

export function readyzHandler(deps: { source: Pick<CredentialSource, "status">; checks: readonly ReadinessCheck[] }) {
  return function serveReadyz(c: Context<ServeEnv>): Response {
    c.set("protocol", "ops");
    const targets = deps.source.status().map((s) => ({ name: s.target, cloud: s.cloud, ready: s.ready }));
    const files = deps.checks.map((check) => ({ name: check.name, ready: check.ready() }));
    const ready = targets.every((t) => t.ready) && files.every((f) => f.ready);
    return c.json({ status: ready ? "ready" : "not ready", targets, files }, ready ? 200 : 503);
  };
}

export function metricsHandler(deps: { render: () => Promise<string> }) {
  return async function serveMetrics(c: Context<ServeEnv>): Promise<Response> {
    c.set("protocol", "ops");
    return c.body(await deps.render(), 200, { "Content-Type": PROMETHEUS_TEXT });
  };
}
