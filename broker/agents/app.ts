/**
 * The RFC 8693 token-exchange endpoint as a Hono app that carries its own path, so the serving
 * layer mounts it at the root:
 *
 * @example
 * app.route("/", createTokenExchangeApp({ verifier, policy, minter, delegation, clock, audit, rateLimiter, replay }));
 * // POST /v1/token
 *
 * `POST <path>` runs one exchange (see `exchange.ts`); any other method there gets 405 with `Allow: POST`.
 */
import { Hono } from "hono";
import { createExchange, type TokenExchangeDeps } from "./exchange.ts";

export type { TokenExchangeDeps } from "./exchange.ts";

export const TOKEN_ENDPOINT_PATH = "/v1/token";

export function createTokenExchangeApp(deps: TokenExchangeDeps, options: { path?: string } = {}): Hono {
  const path = options.path ?? TOKEN_ENDPOINT_PATH;
  const exchange = createExchange(deps);
  const app = new Hono();
  app.post(path, async function tokenExchange(c) {
    const result = await exchange({ contentType: c.req.header("content-type"), request: c.req.raw });
    return c.json(result.body, result.status as 200, result.headers);
  });
  app.all(path, (c) => c.json({ error: "invalid_request", error_description: "use POST" }, 405, { Allow: "POST", "Cache-Control": "no-store" }));
  return app;
}
