import { randomBytes, timingSafeEqual, createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { RunningTrustDomain } from "./trust-domain.ts";

/** Where test workers reach the control server of the trust domain the global setup started. */
export interface TrustDomainControlInfo {
  url: string;
  token: string;
}

function same(a: string, b: string): boolean {
  const h = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(h(a), h(b));
}

/**
 * A loopback-only control endpoint so fault tests running in test workers can stop and restart a
 * cluster of the shared trust domain (the processes belong to the global setup's process):
 * `POST /clusters/<name>/stop` (SIGTERM), `/kill` (SIGKILL, a crash), `/restart`. Bearer token required.
 */
export async function startControlServer(domain: RunningTrustDomain): Promise<{ info: TrustDomainControlInfo; close(): Promise<void> }> {
  const token = randomBytes(24).toString("base64url");
  const server: Server = createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (!same(req.headers.authorization ?? "", `Bearer ${token}`)) return answer(401, { error: "unauthorized" });
    const match = /^\/clusters\/([a-z0-9-]+)\/(stop|kill|restart)$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match) return answer(404, { error: "not_found" });
    const [, name, action] = match as unknown as [string, string, "stop" | "kill" | "restart"];
    if (!domain.instances.has(name)) return answer(404, { error: "unknown_cluster" });
    const work =
      action === "stop"
        ? domain.stopCluster(name).then(() => ({ stopped: name }))
        : action === "kill"
          ? domain.killCluster(name).then(() => ({ killed: name }))
          : domain.restartCluster(name).then((i) => ({ restarted: name, pid: i.pid, startupMs: i.startupMs }));
    work.then(
      (body) => answer(200, body),
      (error: Error) => answer(500, { error: error.message }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    info: { url: `http://127.0.0.1:${port}`, token },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** From a test worker: stop or restart one cluster of the shared trust domain; resolves when done. */
export async function controlCluster(
  control: TrustDomainControlInfo,
  name: string,
  action: "stop" | "kill" | "restart",
): Promise<{ pid?: number; startupMs?: number }> {
  const res = await fetch(`${control.url}/clusters/${name}/${action}`, {
    method: "POST",
    headers: { authorization: `Bearer ${control.token}` },
    signal: AbortSignal.timeout(300_000),
  });
  if (res.status !== 200) throw new Error(`control ${action} ${name}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as { pid?: number; startupMs?: number };
}
