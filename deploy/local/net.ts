import { readFileSync } from "node:fs";
import { request } from "node:https";
import { createServer } from "node:net";

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** GET over HTTPS trusting only the given CA file; resolves with the status and body, never throws on HTTP errors. */
export async function httpsGet(url: string, caFile: string, timeoutMs = 5_000): Promise<{ status: number; body: string }> {
  const ca = readFileSync(caFile);
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}
