/**
 * The RFC 8693 token-exchange endpoint as a Hono app that carries its own path, so the serving
 * layer mounts it at the root, and as a node:http lane for `POST <path>` that the serving layer
 * tries before the app (no web Request/Response, no body stream: the exchange reads the body
 * straight from the socket). Both run the same exchange and answer alike.
 *
 * @example
 * const { app, lane } = createTokenExchange({ verifier, policy, minter, delegation, clock, audit, rateLimiter, replay });
 * serving.app.route("/", app); // POST /v1/token
 *
 * `POST <path>` runs one exchange (see `exchange.ts`); any other method there gets 405 with `Allow: POST`.
 * Every answer comes after the (bounded) body is read, so no connection is cut for an unread body.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Hono } from "hono";
import { readLimitedBody, readLimitedIncoming } from "./body.ts";
import { createExchange, type Exchange, type ExchangeResult, type TokenExchangeDeps } from "./exchange.ts";
import { DEFAULT_LIMITS } from "./protocol.ts";

export type { TokenExchangeDeps } from "./exchange.ts";

export const TOKEN_ENDPOINT_PATH = "/v1/token";

/** Answers every request to `<path>` and returns true; other paths are left to the app (false). */
export type TokenExchangeLane = (req: IncomingMessage, res: ServerResponse) => boolean;

const USE_POST = {
  body: { error: "invalid_request", error_description: "use POST" },
  headers: { Allow: "POST", "Cache-Control": "no-store" },
} as const;

function honoApp(exchange: Exchange, path: string, maxBodyBytes: number): Hono {
  const app = new Hono();
  app.post(path, async function tokenExchange(c) {
    const result = await exchange({ contentType: c.req.header("content-type"), readBody: (max) => readLimitedBody(c.req.raw, max) });
    return c.json(result.body, result.status as 200, result.headers);
  });
  app.all(path, async (c) => {
    // Read (and drop) a bounded body first, as the exchange does: an unread body would be drained
    // by the adapter for at most 500 ms and then the connection cut under the client.
    await readLimitedBody(c.req.raw, maxBodyBytes).catch(() => undefined);
    return c.json(USE_POST.body, 405, USE_POST.headers);
  });
  return app;
}

function send(res: ServerResponse, result: ExchangeResult): void {
  const body = JSON.stringify(result.body);
  res.writeHead(result.status, { ...result.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function nodeLane(exchange: Exchange, path: string, maxBodyBytes: number): TokenExchangeLane {
  return function fastTokenExchange(req, res) {
    if (req.url !== path) return false;
    if (req.method !== "POST") {
      // The app's 405, after the body is read (bounded) like the exchange reads it.
      readLimitedIncoming(req, maxBodyBytes)
        .catch(() => undefined)
        .then(
          () => send(res, { status: 405, body: USE_POST.body, headers: USE_POST.headers }),
          () => undefined,
        );
      return true;
    }
    const contentType = req.headers["content-type"];
    exchange({ contentType, readBody: (max) => readLimitedIncoming(req, max) }).then(
      (result) => send(res, result),
      () => {
        // The exchange answers every failure itself; this is only reached if it broke its contract.
        res.writeHead(500, { "content-type": "application/json", "cache-control": "no-store" });
        res.end('{"error":"server_error"}');
      },
    );
    return true;
  };
}

/** The endpoint's two adapters over one exchange (one verifier, one replay cache, one audit sink). */
export function createTokenExchange(deps: TokenExchangeDeps, options: { path?: string } = {}): { app: Hono; lane: TokenExchangeLane } {
  const path = options.path ?? TOKEN_ENDPOINT_PATH;
  const exchange = createExchange(deps);
  const maxBodyBytes = deps.limits?.maxBodyBytes ?? DEFAULT_LIMITS.maxBodyBytes;
  return { app: honoApp(exchange, path, maxBodyBytes), lane: nodeLane(exchange, path, maxBodyBytes) };
}

export function createTokenExchangeApp(deps: TokenExchangeDeps, options: { path?: string } = {}): Hono {
  return createTokenExchange(deps, options).app;
}
