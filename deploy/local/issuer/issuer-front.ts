import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { LocalPki } from "../pki/local-pki.ts";

export interface Upstream {
  name: string;
  url: string;
}

export interface IssuerFront {
  url: string;
  port: number;
  /** Which cluster answered the last request (for tests and the demo report). */
  lastServedBy(): string | undefined;
  /** How many token requests (`…/protocol/openid-connect/token`) each cluster answered. */
  tokenRequestsByCluster(): Record<string, number>;
  /** Puts this cluster first, as geo-DNS would for a client near it. */
  prefer(name: string): void;
  close(): Promise<void>;
}

const MAX_BODY = 1 << 20;
const FAILOVER_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ETIMEDOUT"]);

/**
 * The local stand-in for geo-DNS or a global load balancer: one public issuer address in front of
 * every cluster of the trust domain. Each request goes to the preferred cluster, or to the next one
 * when that cluster does not answer, so the issuer keeps answering while a cluster is down.
 */
export async function startIssuerFront(opts: {
  pki: LocalPki;
  port: number;
  upstreams: Upstream[];
  routing?: "failover" | "round-robin";
}): Promise<IssuerFront> {
  const ca = readFileSync(opts.pki.caCertFile);
  let order = [...opts.upstreams];
  let turn = 0;
  /** failover: always the preferred cluster first; round-robin: each request starts at the next cluster (any cluster may answer). */
  const attemptOrder = (): Upstream[] => {
    if (opts.routing !== "round-robin") return order;
    const start = turn++ % order.length;
    return [...order.slice(start), ...order.slice(0, start)];
  };
  let servedBy: string | undefined;
  const tokenRequests: Record<string, number> = {};

  async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    for (const upstream of attemptOrder()) {
      const outcome = await new Promise<"done" | "next">((resolve) => {
        const target = new URL(req.url ?? "/", upstream.url);
        const headers = { ...req.headers, host: target.host };
        const out = request(target, { method: req.method, headers, ca, timeout: 30_000 }, (up) => {
          servedBy = upstream.name;
          if (target.pathname.endsWith("/protocol/openid-connect/token"))
            tokenRequests[upstream.name] = (tokenRequests[upstream.name] ?? 0) + 1;
          res.writeHead(up.statusCode ?? 502, { ...up.headers, "x-served-by": upstream.name });
          up.pipe(res);
          up.on("end", () => resolve("done"));
          up.on("error", () => resolve("done"));
        });
        out.on("timeout", () => out.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
        out.on("error", (error: NodeJS.ErrnoException) =>
          resolve(!res.headersSent && FAILOVER_CODES.has(error.code ?? "") ? "next" : "done"),
        );
        out.end(body);
      });
      if (outcome === "done") return;
    }
    if (!res.headersSent) {
      res.writeHead(502, { "content-type": "application/json" });
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
    tokenRequestsByCluster: () => ({ ...tokenRequests }),
    prefer(name) {
      order = [...order.filter((u) => u.name === name), ...order.filter((u) => u.name !== name)];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
