// GET http://127.0.0.1:$CLOUD_BROKER_PORT<path> (default /healthz): exit 0 on 200, else 1.
// The image's HEALTHCHECK, and usable as a Kubernetes exec probe (`healthcheck.mjs /readyz`).
// Plain Node with no dependencies, because the distroless runtime has no shell, curl or wget.
import { request } from "node:http";

const path = process.argv[2] ?? "/healthz";
const port = Number(process.env.CLOUD_BROKER_PORT ?? "8999");
const req = request({ host: "127.0.0.1", port, path, method: "GET", timeout: 2_000 }, (res) => {
  res.resume();
  process.exitCode = res.statusCode === 200 ? 0 : 1;
  if (res.statusCode !== 200) console.error(`healthcheck: ${path} answered ${res.statusCode}`);
});
req.on("timeout", () => req.destroy(new Error(`${path} timed out`)));
req.on("error", (error) => {
  console.error(`healthcheck: ${error.message}`);
  process.exitCode = 1;
});
req.end();
