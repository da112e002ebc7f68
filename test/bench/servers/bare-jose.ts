/**
 * Baseline of figure 3: a bare `node:http` handler that does only the cryptographic core of a
 * token exchange — read the form, verify the subject and the actor token with jose against the
 * issuer's JWKS (same issuer, audience, algorithms and tolerance as the broker) — and answers a
 * fixed JSON. No policy, no replay cache, no audit, no framework.
 *
 *   node --import tsx bare-jose.ts '{"issuer":"…","audience":"kcb-agents"}'  → prints `listening <port>`
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";

const spec = JSON.parse(process.argv[2] ?? "{}") as { issuer: string; audience: string };
const jwks = createRemoteJWKSet(new URL(`${spec.issuer}/protocol/openid-connect/certs`));
const options = {
  issuer: spec.issuer,
  audience: spec.audience,
  algorithms: ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"],
  clockTolerance: 30,
};
const OK = JSON.stringify({ verified: true });

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    Promise.all([jwtVerify(form.get("subject_token") ?? "", jwks, options), jwtVerify(form.get("actor_token") ?? "", jwks, options)]).then(
      () => {
        res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
        res.end(OK);
      },
      () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end('{"error":"invalid_request"}');
      },
    );
  });
});
server.listen(0, "127.0.0.1", () => process.stdout.write(`listening ${(server.address() as AddressInfo).port}\n`));
process.on("SIGTERM", () => process.exit(0));
