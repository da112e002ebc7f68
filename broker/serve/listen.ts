/**
 * Binds an app to an address with @hono/node-server and closes it gracefully: stop accepting,
 * let in-flight requests finish, then drop idle keep-alive connections.
 */
import { createServer, type Server } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { FastLane } from "./fast-lane.ts";

export interface Listener {
  /** The bound port (useful with port 0). */
  port: number;
  host: string;
  /** Stop accepting; wait for in-flight requests up to `graceMs`, then cut what remains. */
  close(graceMs?: number): Promise<void>;
}

/** Anything with a fetch-style handler: a Hono app, or a wrapper around one. */
export interface Fetchable {
  fetch(request: Request): Response | Promise<Response>;
}

/** Serves `app` on `address`; requests the `fastLane` takes never reach the app. */
export function listen(app: Fetchable, address: { host: string; port: number }, fastLane?: FastLane): Promise<Listener> {
  const toApp = getRequestListener((request: Request) => app.fetch(request));
  const server = createServer((req, res) => {
    if (!fastLane?.(req, res)) void toApp(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      const bound = server.address();
      resolve({
        port: typeof bound === "object" && bound ? bound.port : address.port,
        host: address.host,
        close: (graceMs = 4000) => closeServer(server, graceMs),
      });
    });
  });
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
