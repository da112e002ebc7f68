/**
 * Figure 3's subject: the broker's serving app exactly as `cloud-broker serve` builds it (config →
 * credential source → `startServing` → `listen`) with the agents' RFC 8693 app mounted, wired as
 * broker/cli/agents.ts wires it for `cloud-broker serve` (same verifier, policy file store, minter,
 * delegation client auth, audit sink), with three differences so that the load generator can repeat
 * one request (stated in the bench output):
 *
 * - the minted cloud credentials are memoized per grant (the product calls STS per exchange: that
 *   is STS latency, not broker work — with it the figure would measure the STS emulator);
 * - the replay cache is the real one, but each request is stored under its own id (the load
 *   generator re-sends one actor token; production rejects the second use);
 * - the per-agent rate limit is the real token bucket with a limit no run reaches.
 *
 *   node --import tsx agents-broker.ts '{"config":"…","realmConfig":"…","delegationKey":"…"}'
 *   → prints `listening <port>` once the broker's own credentials are warm
 */
import { readFileSync } from "node:fs";
import { importPKCS8 } from "jose";
import { AGENTS_AUDIENCE } from "../../../realm-config/model/conventions.ts";
import { createTokenExchange } from "../../../broker/agents/app.ts";
import { jsonLinesAuditSink } from "../../../broker/agents/audit.ts";
import { keycloakDelegatedTokens, privateKeyJwtAuth } from "../../../broker/agents/keycloak-delegation.ts";
import { openFilePolicyStore } from "../../../broker/agents/policy/file-store.ts";
import type { CloudMinter, ReplayCache } from "../../../broker/agents/ports.ts";
import { systemClock } from "../../../broker/clock.ts";
import { tokenBucketLimiter } from "../../../broker/agents/rate-limit.ts";
import { memoryReplayCache } from "../../../broker/agents/replay.ts";
import { remoteKeys } from "../../../broker/agents/verify/remote-keys.ts";
import { requireConfig } from "../../../broker/cli/load.ts";
import { cloudMinter } from "../../../broker/agents/minter.ts";
import { minterOptions } from "../../../broker/cli/agents.ts";
import { createSource } from "../../../broker/cli/serve.ts";
import { toServeOptions } from "../../../broker/config/serve-options.ts";
import { createLogger, silentLogger } from "../../../broker/log.ts";
import { MetricsRegistry } from "../../../broker/metrics.ts";
import { listen } from "../../../broker/serve/listen.ts";
import { startServing } from "../../../broker/serve/start.ts";
import { publicKeyThumbprint } from "../../../broker/token-source/client-auth.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as { config: string; realmConfig: string; delegationKey: string };
const io = {
  stdout: (t: string) => process.stdout.write(t),
  stderr: (t: string) => process.stderr.write(t),
  env: process.env,
  cwd: process.cwd(),
};
const config = await requireConfig(args.config, io);
const logger = createLogger({ level: "warn", write: io.stderr });
const metrics = new MetricsRegistry({ processMetrics: true });
const source = await createSource(config, logger, metrics);
source.start();

/** Memoizes minted credentials per grant until 5 min before they expire. */
function memoized(minter: CloudMinter): CloudMinter {
  const aws = new Map<string, Awaited<ReturnType<CloudMinter["assumeRole"]>>>();
  return {
    async assumeRole(request) {
      const key = JSON.stringify([request.roleArn, request.sessionName, request.durationSeconds, request.policy ?? ""]);
      const held = aws.get(key);
      if (held && held.expiration.getTime() - Date.now() > 300_000) return held;
      const fresh = await minter.assumeRole(request);
      aws.set(key, fresh);
      return fresh;
    },
    azureToken: (request) => minter.azureToken(request),
  };
}

function perRequestIds(inner: ReplayCache): ReplayCache {
  let n = 0;
  return { remember: (key, expiresAtMs) => inner.remember(`${key} #${(n += 1)}`, expiresAtMs) };
}

const pem = readFileSync(args.delegationKey, "utf8");
const agents = createTokenExchange({
  verifier: {
    issuer: config.issuer,
    audience: AGENTS_AUDIENCE,
    keys: remoteKeys(new URL(`${config.issuer}/protocol/openid-connect/certs`)),
  },
  policy: openFilePolicyStore({ file: args.realmConfig, issuer: config.issuer, env: process.env, log: silentLogger, watch: false }),
  minter: memoized(cloudMinter(minterOptions(config))),
  delegation: keycloakDelegatedTokens({
    issuer: config.issuer,
    clientAuth: privateKeyJwtAuth(await importPKCS8(pem, "RS256"), await publicKeyThumbprint(pem)),
    clock: systemClock,
  }),
  clock: systemClock,
  // Production writes one JSON line per request to stdout; so does this (the bench discards it).
  audit: jsonLinesAuditSink(),
  rateLimiter: tokenBucketLimiter({ burst: 1e9, perSecond: 1e9 }, systemClock),
  replay: perRequestIds(memoryReplayCache({ maxEntries: 10_000_000 }, systemClock)),
});

const options = toServeOptions(config);
const serving = await startServing({ source, options, metrics, log: logger });
const listener = await listen(serving.app, options, serving.fastLane);
// Production serves the agents' app on its own HTTPS listener (listenTls); here it is plain http, as
// is the bare jose handler it is compared with: the figure measures the exchange, not TLS.
const agentsListener = await listen(agents.app, { host: "127.0.0.1", port: 0 }, agents.lane);
for (let i = 0; i < 600 && !source.ready(); i++) await new Promise((r) => setTimeout(r, 100));
process.stderr.write(`listening ${agentsListener.port}\n`);

process.once("SIGTERM", () => {
  void Promise.all([listener.close(1_000), agentsListener.close(1_000)]).then(async () => {
    await serving.stop();
    source.stop();
    process.exit(0);
  });
});
