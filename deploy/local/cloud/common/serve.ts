import { readFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import { createServer as createHttpsServer } from "node:https";
import { createSecureServer as createHttp2SecureServer } from "node:http2";
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
 * server certificate when `pki` is given; with `http2` too, it speaks HTTP/2 to clients that offer
 * it by ALPN (as AWS endpoints do: the JS SDK's Bedrock Runtime client connects with HTTP/2 only)
 * and HTTP/1.1 to the others. `close` ends open connections too.
 */
export async function serveApp(app: Hono, opts: { pki?: LocalPki; port?: number; http2?: boolean } = {}): Promise<Served> {
  if (opts.http2 && !opts.pki) throw new TypeError("serveApp: http2 needs pki (HTTP/2 is negotiated by TLS ALPN)");
  const tls = opts.pki ? { cert: readFileSync(opts.pki.serverCertFile), key: readFileSync(opts.pki.serverKeyFile) } : undefined;
  const sockets = new Set<Socket>();
  const server = await new Promise<ServerType>((resolve, reject) => {
    const s = serve(
      {
        fetch: app.fetch,
        port: opts.port ?? 0,
        hostname: "127.0.0.1",
        ...(tls &&
          (opts.http2
            ? { createServer: createHttp2SecureServer, serverOptions: { ...tls, allowHTTP1: true } }
            : { createServer: createHttpsServer, serverOptions: tls })),
      },
      () => resolve(s),
    );
    s.once("error", reject);
    s.on("connection", (socket: Socket) => {
      sockets.add(socket);
      socket.once("close", () => sockets.delete(socket));
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: opts.pki ? `https://localhost:${port}` : `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if ("closeAllConnections" in server) server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
