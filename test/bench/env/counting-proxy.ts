/**
 * An HTTPS proxy in front of one Keycloak cluster's admin URL that records every request, so a
 * figure can count what realm-sync writes without trusting realm-sync's own report.
 */
import { readFileSync } from "node:fs";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import type { LocalPki } from "../../../deploy/local/pki/local-pki.ts";

export interface SeenCall {
  method: string;
  path: string;
  status: number;
  /** `clientId` of a JSON body, when it has one (client creation). */
  clientId?: string;
  /** The `Location` header of the answer (the id of something created). */
  location?: string;
  /** From the request's end to the answer's end, in ms (Keycloak streams a list: most of its work happens after the headers). */
  ms: number;
}

export interface CountingProxy {
  url: string;
  calls: SeenCall[];
  close(): Promise<void>;
}

export async function startCountingProxy(upstream: string, pki: LocalPki): Promise<CountingProxy> {
  const ca = readFileSync(pki.caCertFile);
  const calls: SeenCall[] = [];
  const server = createServer({ cert: readFileSync(pki.serverCertFile), key: readFileSync(pki.serverKeyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const target = new URL(req.url ?? "/", upstream);
      const sent = performance.now();
      let clientId: string | undefined;
      try {
        const parsed = JSON.parse(body.toString("utf8")) as { clientId?: unknown };
        if (typeof parsed.clientId === "string") clientId = parsed.clientId;
      } catch {
        // not JSON
      }
      const out = request(target, { method: req.method, headers: { ...req.headers, host: target.host }, ca }, (up) => {
        const location = typeof up.headers.location === "string" ? up.headers.location : undefined;
        const call: SeenCall = {
          method: req.method ?? "GET",
          path: target.pathname,
          status: up.statusCode ?? 0,
          ...(clientId && { clientId }),
          ...(location && { location }),
          ms: performance.now() - sent,
        };
        calls.push(call);
        up.on("end", () => (call.ms = performance.now() - sent));
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on("error", () => {
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `https://localhost:${(server.address() as AddressInfo).port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes to a realm's admin API (not reads, not the admin's own sign-in). */
export function isWrite(call: SeenCall): boolean {
  return call.method !== "GET" && call.method !== "HEAD" && call.path.startsWith("/admin/");
}
