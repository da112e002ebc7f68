/**
 * Binds an app to an address with @hono/node-server and closes it gracefully: stop accepting,
 * let in-flight requests finish, then drop idle keep-alive connections.
 */
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { serve } from "@hono/node-server";

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

export function listen(app: Fetchable, address: { host: string; port: number }): Promise<Listener> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: (request: Request) => app.fetch(request), hostname: address.host, port: address.port }, (info: AddressInfo) => {
      server.off("error", reject);
      resolve({
        port: info.port,
        host: address.host,
        close: (graceMs = 4000) => closeServer(server as Server, graceMs),
      });
    });
    server.once("error", reject);
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
