import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalPki } from "../pki/local-pki.ts";

export interface Upstream {
  name: string;
  url: string;
  /** The cluster's readiness (Keycloak: `/health/ready` on the management port); checked every second when set. */
  healthUrl?: string;
}

export interface IssuerFront {
  url: string;
  port: number;
  /** Which cluster answered the last request (for tests and the demo report). */
  lastServedBy(): string | undefined;
  /** How many token requests (`…/protocol/openid-connect/token`) each cluster answered. */
  tokenRequestsByCluster(): Record<string, number>;
  /** Which clusters the last health checks found ready (every cluster without a health URL counts as ready). */
  readyClusters(): string[];
  /**
   * Takes a cluster out of rotation (`false`) or puts it back: an operator's switch for
   * maintenance, e.g. to configure a restarted cluster before it takes traffic.
   */
  setInRotation(name: string, inRotation: boolean): void;
  /** Puts this cluster first, as geo-DNS would for a client near it. */
  prefer(name: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
/** Errors before any answer that send the request to the next cluster (nothing was answered; for a connect failure nothing was sent). */
const FAILOVER_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ECONNECTTIMEOUT"]);
/** The front's timings; tests shorten them. */
export interface FrontTimings {
  /** A TCP connect to a cluster on the same network takes milliseconds; longer means it is not accepting. */
  connectMs: number;
  /** How long a cluster may take to answer once it has the request. */
  answerMs: number;
  /** How often each cluster's readiness is checked, and how long one check may take. */
  healthIntervalMs: number;
  healthTimeoutMs: number;
}

export const FRONT_TIMINGS: FrontTimings = { connectMs: 3_000, answerMs: 60_000, healthIntervalMs: 1_000, healthTimeoutMs: 2_000 };
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * The local stand-in for geo-DNS or a global load balancer: one public issuer address in front of
 * every cluster of the trust domain. As such a load balancer is set up in production:
 *
 * - it routes only to clusters whose health check passes (Keycloak's readiness, `/health/ready` on
 *   the management port, every second by default) and that are in rotation: a cluster that is
 *   stopped, or starting (its port open but not answering yet), gets no requests; with no cluster
 *   to route to it answers 503 `no_cluster_available` at once;
 * - each request goes to the preferred ready cluster, and to the next one when the connection is
 *   refused, reset before an answer or not accepted within `connectMs` (3 s);
 * - a cluster that takes the request but does not answer within `answerMs` (60 s, a common
 *   load-balancer idle timeout) makes a GET fail over too; a POST (a token grant) gets 504, since
 *   the cluster may have issued it.
 */
export async function startIssuerFront(opts: {
  pki: LocalPki;
  port: number;
  upstreams: Upstream[];
  routing?: "failover" | "round-robin";
  timings?: FrontTimings;
}): Promise<IssuerFront> {
  const timings = opts.timings ?? FRONT_TIMINGS;
  const ca = readFileSync(opts.pki.caCertFile);
  let order = [...opts.upstreams];
  let turn = 0;
  /** By the last health check of each cluster (all ready at the start: the front starts after the clusters). */
  const ready = new Map(opts.upstreams.map((u) => [u.name, true]));
  const outOfRotation = new Set<string>();
  /** failover: always the preferred cluster first; round-robin: each request starts at the next cluster (any cluster may answer). */
  const attemptOrder = (): Upstream[] => {
    const candidates = order.filter((u) => ready.get(u.name) && !outOfRotation.has(u.name));
    if (opts.routing !== "round-robin" || candidates.length === 0) return candidates;
    const start = turn++ % candidates.length;
    return [...candidates.slice(start), ...candidates.slice(0, start)];
  };
  const healthChecks = opts.upstreams.flatMap((u) =>
    u.healthUrl ? [watchHealth(u.healthUrl, ca, timings, (ok) => ready.set(u.name, ok))] : [],
  );
  let servedBy: string | undefined;
  const tokenRequests: Record<string, number> = {};

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const upstreams = attemptOrder();
    for (const upstream of upstreams) {
      const outcome = await new Promise<"done" | "next">((resolve) => {
        const target = new URL(req.url ?? "/", upstream.url);
        const headers = { ...req.headers, host: target.host };
        const out = request(target, { method: req.method, headers, ca, timeout: timings.answerMs }, (up) => {
          servedBy = upstream.name;
          if (target.pathname.endsWith("/protocol/openid-connect/token"))
            tokenRequests[upstream.name] = (tokenRequests[upstream.name] ?? 0) + 1;
          res.writeHead(up.statusCode ?? 502, { ...up.headers, "x-served-by": upstream.name });
          up.pipe(res);
          up.on("end", () => resolve("done"));
          up.on("error", () => resolve("done"));
        });
        out.on("socket", (socket) => {
          if (!socket.connecting) return;
          const timer = setTimeout(
            () => out.destroy(Object.assign(new Error("connect timeout"), { code: "ECONNECTTIMEOUT" })),
            timings.connectMs,
          );
          socket.once("connect", () => clearTimeout(timer));
          socket.once("close", () => clearTimeout(timer));
        });
        out.on("timeout", () => out.destroy(Object.assign(new Error("answer timeout"), { code: "ETIMEDOUT" })));
        out.on("error", (error: NodeJS.ErrnoException) => {
          if (res.headersSent) return resolve("done");
          const code = error.code ?? "";
          if (FAILOVER_CODES.has(code) || (code === "ETIMEDOUT" && IDEMPOTENT.has(req.method ?? ""))) return resolve("next");
          const [status, answer] = code === "ETIMEDOUT" ? [504, "cluster_timeout"] : [502, "cluster_error"];
          res.writeHead(status, { "content-type": "application/json", "x-served-by": upstream.name });
          res.end(JSON.stringify({ error: answer }));
          resolve("done");
        });
        out.end(body);
      });
      if (outcome === "done") return;
    }
    if (!res.headersSent) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "no_cluster_available" }));
    }
  }

  const server: Server = createServer(
    { cert: readFileSync(opts.pki.serverCertFile), key: readFileSync(opts.pki.serverKeyFile) },
    (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY) {
          res.writeHead(413).end();
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on("end", () => void forward(req, res, Buffer.concat(chunks)));
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, "127.0.0.1", () => resolve());
  });

  return {
    url: `https://localhost:${opts.port}`,
    port: opts.port,
    lastServedBy: () => servedBy,
    readyClusters: () => order.filter((u) => ready.get(u.name)).map((u) => u.name),
    tokenRequestsByCluster: () => ({ ...tokenRequests }),
    setInRotation(name, inRotation) {
      if (inRotation) outOfRotation.delete(name);
      else outOfRotation.add(name);
    },
    prefer(name) {
      order = [...order.filter((u) => u.name === name), ...order.filter((u) => u.name !== name)];
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const stop of healthChecks) stop();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Checks `url` every `healthIntervalMs` (one check at a time) and reports each result: ready when
 * it answers 200 within `healthTimeoutMs`. Returns the function that stops checking.
 */
function watchHealth(url: string, ca: Buffer, timings: FrontTimings, report: (ready: boolean) => void): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = () => {
    const req = request(url, { ca, timeout: timings.healthTimeoutMs }, (res) => {
      res.resume();
      done(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy(new Error("health check timeout")));
    req.on("error", () => done(false));
    req.end();
  };
  let settled = false;
  const done = (ok: boolean) => {
    if (settled) return;
    settled = true;
    if (stopped) return;
    report(ok);
    timer = setTimeout(() => {
      settled = false;
      check();
    }, timings.healthIntervalMs);
    timer.unref();
  };
  check();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
