import type { Hono } from "hono";

/**
 * An SDK request handler that hands the request to the Hono app in memory: the unmodified AWS SDK
 * serializes, signs (its own SigV4 signer, an implementation independent of ours) and parses, with no socket.
 */
export function inMemoryHandler(app: Hono) {
  return {
    async handle(request: {
      method: string;
      protocol: string;
      hostname: string;
      port?: number;
      path: string;
      query?: Record<string, string | string[] | null>;
      headers: Record<string, string>;
      body?: unknown;
    }) {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(request.query ?? {})) for (const item of [v ?? ""].flat()) query.append(k, item ?? "");
      const qs = query.toString();
      const url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ""}${request.path}${qs ? `?${qs}` : ""}`;
      const res = await app.request(url, {
        method: request.method,
        headers: request.headers,
        body: typeof request.body === "string" || request.body instanceof Uint8Array ? request.body : undefined,
      });
      return {
        response: { statusCode: res.status, headers: Object.fromEntries(res.headers), body: new Uint8Array(await res.arrayBuffer()) },
      };
    },
  };
}
