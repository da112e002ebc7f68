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
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Hono } from "hono";
import { readLimitedBody, readLimitedIncoming } from "./body.ts";
import { createExchange, type Exchange, type ExchangeResult, type TokenExchangeDeps } from "./exchange.ts";

export type { TokenExchangeDeps } from "./exchange.ts";

export const TOKEN_ENDPOINT_PATH = "/v1/token";

/** Answers `POST <path>` and returns true; anything else is left to the app (false). */
export type TokenExchangeLane = (req: IncomingMessage, res: ServerResponse) => boolean;

function honoApp(exchange: Exchange, path: string): Hono {
  const app = new Hono();
  app.post(path, async function tokenExchange(c) {
    const result = await exchange({ contentType: c.req.header("content-type"), readBody: (max) => readLimitedBody(c.req.raw, max) });
    return c.json(result.body, result.status as 200, result.headers);
  });
  app.all(path, (c) => c.json({ error: "invalid_request", error_description: "use POST" }, 405, { Allow: "POST", "Cache-Control": "no-store" }));
  return app;
}

function send(res: ServerResponse, result: ExchangeResult): void {
  const body = JSON.stringify(result.body);
  res.writeHead(result.status, { ...result.headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function nodeLane(exchange: Exchange, path: string): TokenExchangeLane {
  return function fastTokenExchange(req, res) {
    if (req.method !== "POST" || req.url !== path) return false;
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
  return { app: honoApp(exchange, path), lane: nodeLane(exchange, path) };
}

export function createTokenExchangeApp(deps: TokenExchangeDeps, options: { path?: string } = {}): Hono {
  return createTokenExchange(deps, options).app;
}
