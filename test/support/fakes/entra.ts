/**
 * A scripted fake of Entra's v2.0 endpoints on node:https (127.0.0.1, ephemeral port, a
 * throw-away CA generated at run time): tenant discovery and a token endpoint that answers what
 * the test scripts, in Entra's wire format. It validates nothing: it drives the adapter through
 * its success, error and timeout paths, which need a real socket (so its tests are integration
 * tests). The strict Entra emulator is in deploy/local/cloud/.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalPki } from "../../../deploy/local/pki/local-pki.ts";

export interface EntraCall {
  method: string;
  path: string;
  form: URLSearchParams;
}

export type EntraReply = { status: number; json?: unknown; text?: string } | "hang";

export function entraError(status: number, error: string, aadsts: number | undefined, description = "detail"): EntraReply {
  return {
    status,
    json: {
      error,
      error_description:
        aadsts === undefined
          ? description
          : `AADSTS${aadsts}: ${description}. Trace ID: 0000 Correlation ID: 1111 Timestamp: 2030-01-01 00:00:00Z`,
      error_codes: aadsts === undefined ? [] : [aadsts],
      timestamp: "2030-01-01 00:00:00Z",
      trace_id: "0000",
      correlation_id: "1111",
    },
  };
}

export interface FakeEntra {
  authorityHost: string;
  agent: Agent;
  calls: EntraCall[];
  /** Replies of the token endpoint, used in order; the last one repeats. */
  reply(...replies: EntraReply[]): void;
  close(): Promise<void>;
}

export async function startFakeEntra(): Promise<FakeEntra> {
  const dir = mkdtempSync(join(tmpdir(), "kcb-fake-entra-"));
  const pki = await ensureLocalPki(dir);
  const calls: EntraCall[] = [];
  let replies: EntraReply[] = [];
  let base = "";
  const server: Server = createServer({ cert: readFileSync(pki.serverCertFile), key: readFileSync(pki.serverKeyFile) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const path = (req.url ?? "").split("?")[0] ?? "";
      calls.push({ method: req.method ?? "", path, form: new URLSearchParams(Buffer.concat(chunks).toString("utf8")) });
      const discovery = /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/.exec(path);
      if (discovery) {
        const tenant = discovery[1] ?? "";
        res.writeHead(200, { "content-type": "application/json" });
        res.end(
          JSON.stringify({
            issuer: `${base}/${tenant}/v2.0`,
            token_endpoint: `${base}/${tenant}/oauth2/v2.0/token`,
            authorization_endpoint: `${base}/${tenant}/oauth2/v2.0/authorize`,
            jwks_uri: `${base}/${tenant}/discovery/v2.0/keys`,
          }),
        );
        return;
      }
      const reply = replies.length > 1 ? replies.shift() : replies[0];
      if (!reply || reply === "hang") return;
      res.writeHead(reply.status, { "content-type": reply.json === undefined ? "text/html" : "application/json" });
      res.end(reply.json === undefined ? (reply.text ?? "") : JSON.stringify(reply.json));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
  const agent = new Agent({ ca: readFileSync(pki.caCertFile), keepAlive: false });
  return {
    authorityHost: base,
    agent,
    calls,
    reply(...next) {
      replies = next;
    },
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}
