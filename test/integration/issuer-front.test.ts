/**
 * The issuer front as a global load balancer: it routes only to clusters whose readiness check
 * passes, fails over on a refused connection and on an unanswered GET, and answers an unanswered
 * POST (a grant the cluster may have issued) with 504 instead of sending it to another cluster.
 * Clusters are loopback HTTPS servers with the local PKI's certificate.
 */
import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startIssuerFront, type FrontTimings, type IssuerFront } from "../../deploy/local/issuer/issuer-front.ts";
import { freePort } from "../../deploy/local/net.ts";
import { ensureLocalPki, type LocalPki } from "../../deploy/local/pki/local-pki.ts";

const TIMINGS: FrontTimings = { connectMs: 500, answerMs: 400, healthIntervalMs: 50, healthTimeoutMs: 200 };

const dir = mkdtempSync(join(tmpdir(), "kcb-front-"));
let pki: LocalPki;
beforeAll(async () => {
  pki = await ensureLocalPki(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Cluster {
  name: string;
  url: string;
  healthUrl: string;
  /** What `/health/ready` answers (a status), or `hang` for no answer. */
  health: number | "hang";
  /** `hang`: takes requests (other than health) and never answers. */
  mode: "answer" | "hang";
  requests: string[];
  server: Server;
}

async function cluster(name: string): Promise<Cluster> {
  const port = await freePort();
  const c: Cluster = {
    name,
    url: `https://localhost:${port}`,
    healthUrl: `https://localhost:${port}/health/ready`,
    health: 200,
    mode: "answer",
    requests: [],
    server: createServer({ cert: readFileSync(pki.serverCertFile), key: readFileSync(pki.serverKeyFile) }, (req, res) => {
      if (req.url === "/health/ready") {
        if (c.health !== "hang") res.writeHead(c.health).end();
        return;
      }
      req.resume();
      c.requests.push(`${req.method} ${req.url}`);
      if (c.mode === "answer") res.writeHead(200, { "content-type": "text/plain" }).end(name);
    }),
  };
  await new Promise<void>((resolve) => c.server.listen(port, "127.0.0.1", resolve));
  return c;
}

function call(front: IssuerFront, method: "GET" | "POST", path: string): Promise<{ status: number; body: string; servedBy?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${front.url}${path}`, { method, ca: readFileSync(pki.caCertFile) }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        const servedBy = res.headers["x-served-by"];
        resolve({ status: res.statusCode ?? 0, body, ...(typeof servedBy === "string" && { servedBy }) });
      });
    });
    req.on("error", reject);
    req.end(method === "POST" ? "grant_type=client_credentials" : undefined);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the front's health checks see exactly `expected` ready (a few check rounds at most). */
async function readyBecomes(front: IssuerFront, expected: string[]): Promise<void> {
  const deadline = Date.now() + 20 * (TIMINGS.healthIntervalMs + TIMINGS.healthTimeoutMs);
  while (JSON.stringify(front.readyClusters()) !== JSON.stringify(expected) && Date.now() < deadline) await sleep(20);
  expect(front.readyClusters()).toEqual(expected);
}

let opened: Array<{ close(): Promise<void> | void }> = [];
afterEach(async () => {
  for (const o of opened.reverse()) await o.close();
  opened = [];
});

async function domain(): Promise<{ eu: Cluster; us: Cluster; front: IssuerFront }> {
  const eu = await cluster("eu");
  const us = await cluster("us");
  const front = await startIssuerFront({
    pki,
    port: await freePort(),
    upstreams: [eu, us].map((c) => ({ name: c.name, url: c.url, healthUrl: c.healthUrl })),
    timings: TIMINGS,
  });
  for (const c of [eu, us])
    opened.push({
      close: () =>
        new Promise<void>((r) => {
          c.server.closeAllConnections();
          c.server.close(() => r());
        }),
    });
  opened.push(front);
  return { eu, us, front };
}

describe("issuer front", () => {
  it("sends every request to the preferred cluster while it is ready", async () => {
    const { eu, us, front } = await domain();
    expect((await call(front, "POST", "/realms/r/protocol/openid-connect/token")).servedBy).toBe("eu");
    expect((await call(front, "GET", "/realms/r/.well-known/openid-configuration")).body).toBe("eu");
    expect(eu.requests).toHaveLength(2);
    expect(us.requests).toHaveLength(0);
    expect(front.tokenRequestsByCluster()).toEqual({ eu: 1 });
  });

  it.each([
    ["answers 503 (starting)", 503],
    ["does not answer (starting: port open, not answering)", "hang"],
  ] as const)("sends nothing to a cluster whose readiness %s, and routes to it again once it is ready", async (_what, health) => {
    const { eu, us, front } = await domain();
    eu.health = health;
    eu.mode = "hang";
    await readyBecomes(front, ["us"]);
    expect((await call(front, "POST", "/realms/r/protocol/openid-connect/token")).servedBy).toBe("us");
    expect(eu.requests).toHaveLength(0);
    eu.health = 200;
    eu.mode = "answer";
    await readyBecomes(front, ["eu", "us"]);
    expect((await call(front, "GET", "/x")).servedBy).toBe("eu");
    expect(us.requests).toHaveLength(1);
  });

  it("sends nothing to a cluster an operator took out of rotation until it is put back", async () => {
    const { eu, us, front } = await domain();
    front.setInRotation("eu", false);
    expect((await call(front, "GET", "/x")).servedBy).toBe("us");
    front.setInRotation("us", false);
    expect((await call(front, "GET", "/x")).status).toBe(503);
    front.setInRotation("eu", true);
    expect((await call(front, "GET", "/x")).servedBy).toBe("eu");
    expect(eu.requests).toHaveLength(1);
    expect(us.requests).toHaveLength(1);
  });

  it("answers 503 no_cluster_available at once when no cluster is ready", async () => {
    const { eu, us, front } = await domain();
    eu.health = 503;
    us.health = "hang";
    await readyBecomes(front, []);
    const started = Date.now();
    const answer = await call(front, "POST", "/realms/r/protocol/openid-connect/token");
    expect(Date.now() - started).toBeLessThan(TIMINGS.answerMs);
    expect(answer).toMatchObject({ status: 503, body: JSON.stringify({ error: "no_cluster_available" }) });
    expect([...eu.requests, ...us.requests]).toEqual([]);
  });

  it("fails over on a refused connection before the health check has noticed", async () => {
    const { eu, front } = await domain();
    eu.server.closeAllConnections();
    await new Promise<void>((r) => eu.server.close(() => r()));
    expect((await call(front, "POST", "/realms/r/protocol/openid-connect/token")).servedBy).toBe("us");
  });

  it("fails a GET over to the next cluster when the first takes it and does not answer", async () => {
    const { eu, us, front } = await domain();
    eu.mode = "hang";
    expect(await call(front, "GET", "/realms/r/.well-known/openid-configuration")).toMatchObject({ status: 200, servedBy: "us" });
    expect(eu.requests).toHaveLength(1);
    expect(us.requests).toHaveLength(1);
  });

  it("answers 504 to a POST the first cluster took and did not answer: it may have issued the grant", async () => {
    const { eu, us, front } = await domain();
    eu.mode = "hang";
    expect(await call(front, "POST", "/realms/r/protocol/openid-connect/token")).toMatchObject({ status: 504, servedBy: "eu" });
    expect(us.requests).toHaveLength(0);
  });
});
