/**
 * Binds an app to an address with @hono/node-server and closes it gracefully: stop accepting,
 * let in-flight requests finish, then drop idle keep-alive connections.
 *
 * The adapter is loaded at the first request the fast lane leaves to the app: loading it loads
 * Node's fetch machinery (undici: its `Request`/`Response`, about 8 MB resident), which a pod
 * whose SDKs and probes the lane answers never needs.
 */
import { readFileSync, unwatchFile, watchFile } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { SecureContextOptions } from "node:tls";
import { BrokerError } from "../errors.ts";
import type { FastLane } from "./fast-lane.ts";
import type { ServeLogger } from "./ports.ts";

export interface Listener {
  /** The bound port (useful with port 0). */
  port: number;
  host: string;
  /** Stop accepting; wait for in-flight requests up to `graceMs`, then cut what remains. */
  close(graceMs?: number): Promise<void>;
}

/** How long an idle keep-alive connection is kept (above every common client's idle timeout). */
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/** Anything with a fetch-style handler: a Hono app, or a wrapper around one. */
export interface Fetchable {
  fetch(request: Request): Response | Promise<Response>;
}

/** A node:http handler running `app` through @hono/node-server, loaded at its first request. */
function lazyAdapter(app: Fetchable): (req: IncomingMessage, res: ServerResponse) => void {
  let toApp: Promise<(req: IncomingMessage, res: ServerResponse) => Promise<void>> | undefined;
  return (req, res) => {
    toApp ??= import("@hono/node-server").then(({ getRequestListener }) => getRequestListener((request: Request) => app.fetch(request)));
    toApp
      .then((handle) => handle(req, res))
      .catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end();
      });
  };
}

/** Serves `app` on `address`; requests the `fastLane` takes never reach the app. */
export function listen(app: Fetchable, address: { host: string; port: number }, fastLane?: FastLane): Promise<Listener> {
  const toApp = lazyAdapter(app);
  const server = createServer((req, res) => {
    if (!fastLane?.(req, res)) toApp(req, res);
  });
  return bind(server, address);
}

/** The PEM files of an HTTPS listener; `clientCaFile` makes client certificates required. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  clientCaFile?: string;
}

function readPem(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new BrokerError("CONFIG_INVALID", `${field}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
}

/** The secure-context options of `files`; BrokerError CONFIG_INVALID naming the file that cannot be read. */
export function readTlsFiles(files: TlsFiles): SecureContextOptions {
  return {
    cert: readPem(files.certFile, "tls.certFile"),
    key: readPem(files.keyFile, "tls.keyFile"),
    ...(files.clientCaFile !== undefined && { ca: readPem(files.clientCaFile, "tls.clientCaFile") }),
  };
}

/**
 * Serves `app` over HTTPS (TLS 1.2 or later) on `address`. With `clientCaFile`, a client without a
 * certificate of that CA is refused during the handshake. The files are polled every
 * `reloadIntervalMs` and a changed certificate, key or CA is taken into use without a restart; a
 * change that does not load is logged and the previous one kept.
 */
export async function listenTls(
  app: Fetchable,
  address: { host: string; port: number },
  files: TlsFiles,
  opts: { log: ServeLogger; reloadIntervalMs?: number; fastLane?: FastLane },
): Promise<Listener> {
  const context = readTlsFiles(files);
  const toApp = lazyAdapter(app);
  let server: HttpsServer;
  try {
    server = createHttpsServer(
      {
        ...context,
        minVersion: "TLSv1.2",
        requestCert: files.clientCaFile !== undefined,
        rejectUnauthorized: files.clientCaFile !== undefined,
      },
      (req, res) => {
        if (!opts.fastLane?.(req, res)) toApp(req, res);
      },
    );
  } catch (error) {
    throw new BrokerError(
      "CONFIG_INVALID",
      `tls: ${files.certFile} and ${files.keyFile} are not a usable certificate and key (${(error as Error).message})`,
    );
  }
  const paths = [files.certFile, files.keyFile, ...(files.clientCaFile !== undefined ? [files.clientCaFile] : [])];
  const reload = () => {
    try {
      server.setSecureContext(readTlsFiles(files));
      opts.log.info("TLS certificate reloaded", { certFile: files.certFile });
    } catch (error) {
      opts.log.warn("TLS certificate change not loaded; keeping the previous one", {
        certFile: files.certFile,
        reason: error instanceof BrokerError ? error.message : (error as Error).message,
      });
    }
  };
  for (const path of paths)
    watchFile(
      path,
      { interval: opts.reloadIntervalMs ?? 30_000, persistent: false },
      (now, before) => now.mtimeMs !== before.mtimeMs && reload(),
    );
  try {
    const listener = await bind(server, address);
    return {
      ...listener,
      close: async (graceMs) => {
        for (const path of paths) unwatchFile(path);
        await listener.close(graceMs);
      },
    };
  } catch (error) {
    for (const path of paths) unwatchFile(path);
    throw error;
  }
}

function bind(
  server: Server<typeof IncomingMessage, typeof ServerResponse> | HttpsServer,
  address: { host: string; port: number },
): Promise<Listener> {
  // Idle keep-alive connections outlive the clients' own idle timeouts (Node's agents: 5 s, the
  // same as Node's server default), so a client never reuses a connection the server is closing at
  // that instant ("socket hang up"): the client closes first.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000;
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

function closeServer(server: Server | HttpsServer, graceMs: number): Promise<void> {
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
