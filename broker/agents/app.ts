/**
 * The RFC 8693 token-exchange endpoint as a Hono sub-app. The serving layer mounts it:
 *
 * @example
 * app.route("/v1/token", createTokenExchangeApp({ verifier, policy, minter, delegation, clock, audit, rateLimiter, replay }));
 *
 * `POST /` runs one exchange (see `exchange.ts`); any other method gets 405 with `Allow: POST`.
 */
import { Hono } from "hono";
import { createExchange, type TokenExchangeDeps } from "./exchange.ts";

export type { TokenExchangeDeps } from "./exchange.ts";

export function createTokenExchangeApp(deps: TokenExchangeDeps): Hono {
  const exchange = createExchange(deps);
  const app = new Hono();
  app.post("/", async function tokenExchange(c) {
    const result = await exchange({ contentType: c.req.header("content-type"), request: c.req.raw });
    return c.json(result.body, result.status as 200, result.headers);
  });
  app.all("/", (c) => c.json({ error: "invalid_request", error_description: "use POST" }, 405, { Allow: "POST", "Cache-Control": "no-store" }));
  return app;
}
