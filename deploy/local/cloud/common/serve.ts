import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createServer as createHttpsServer } from "node:https";
import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { LocalPki } from "../../pki/local-pki.ts";

export interface Served {
  /** Base URL without a trailing slash. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Serves a Hono app on loopback (a free port unless one is given), over HTTPS with the local
 * server certificate when `pki` is given. `close` ends open connections too.
 */
export async function serveApp(app: Hono, opts: { pki?: LocalPki; port?: number } = {}): Promise<Served> {
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: opts.port ?? 0,
        hostname: "127.0.0.1",
        ...(opts.pki ? { createServer: createHttpsServer, serverOptions: { cert: readFileSync(opts.pki.serverCertFile), key: readFileSync(opts.pki.serverKeyFile) } } : {}),
      },
      () => resolve(s),
    );
    s.once("error", reject);
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: opts.pki ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
