/**
 * Baseline of figures 1 and 2: a bare `node:http` server answering every request with exactly the
 * bytes and headers the broker answered (captured from the broker in the same run). No routing,
 * no auth, no framework: the ceiling of what Node can serve on this machine right now. Plain
 * JavaScript, run by plain `node` (no tsx loader), so its memory is a bare Node process's too
 * (figure 5's baseline).
 *
 *   node bare-static.mjs '{"status":200,"headers":{…},"bodyBase64":"…"}'
 *   → prints `listening <port>`
 */
import { createServer } from "node:http";

/** @type {{ status: number; headers: Record<string, string>; bodyBase64: string }} */
const spec = JSON.parse(process.argv[2] ?? "{}");
const body = Buffer.from(spec.bodyBase64, "base64");

const server = createServer((_req, res) => {
  res.writeHead(spec.status, spec.headers);
  res.end(body);
});
server.keepAliveTimeout = 5_000;
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`listening ${/** @type {import("node:net").AddressInfo} */ (server.address()).port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
