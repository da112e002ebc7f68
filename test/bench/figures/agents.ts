/**
 * Figure 3: the agents' token exchange (`POST /v1/token`) against a bare handler that only
 * verifies the same two tokens with jose. Both get the same request from the same load generator:
 * real Keycloak tokens (the workload's subject token and the agent's actor token, `aud`
 * kcb-agents), target the workload's AWS role.
 *
 * What the broker does per request here: node:http and the serve lanes (POST /v1/token is a lane,
 * no web Request), form parsing with limits, the verification of both tokens (each decoded once by
 * the pre-check; the signature checked with node:crypto against the JWKS key, the claims with
 * jose's rules on the decoded payload), rate limit, replay store, policy evaluation, the delegated
 * Keycloak token (cached by the product, its claims decoded once per token), the STS credentials
 * (memoized by the bench: see servers/agents-broker.ts), the aws-credentials token encoding, one
 * audit event (queued; serialized and written after the event-loop turn). The baseline: form
 * parsing and the two jose verifications (jwtVerify: its own decode, WebCrypto).
 */
import { join } from "node:path";
import { listeningPort, spawnNode, type Child } from "../env/child.ts";
import { profileUnderLoad } from "../env/profile.ts";
import { clientToken } from "../env/tokens.ts";
import { AGENT, ROLE_ARN, WORKLOAD, writeBrokerConfig, type World } from "../env/world.ts";
import type { LoadSpec } from "../load/protocol.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { atLeast, ratio } from "../report/targets.ts";
import { freePort } from "../../../deploy/local/net.ts";
import { failures, fmtMs, fmtRate, interleaved } from "./ab.ts";
import type { FigureContext } from "./serving.ts";

const CONNECTIONS = 64;
const fmtMicros = (us: number | undefined) => (us === undefined ? "?" : `${us.toFixed(1)} µs`);
const JWT = "urn:ietf:params:oauth:token-type:jwt";

export interface AgentsBroker {
  child: Child;
  url: string;
  stop(): Promise<unknown>;
}

/** Starts the broker with the agents' endpoint on its own listener (from source, optionally CPU-profiled). */
export async function startAgentsBroker(world: World, name: string, cpuProfDir?: string): Promise<AgentsBroker> {
  const port = await freePort();
  const config = writeBrokerConfig(world, name, { port, stateDir: join(world.dir, `${name}-state`) });
  const child = spawnNode({
    args: [
      ...(cpuProfDir ? ["--cpu-prof", "--cpu-prof-dir", cpuProfDir] : []),
      "--import",
      "tsx",
      "test/bench/servers/agents-broker.ts",
      JSON.stringify({ config, realmConfig: world.fx.configFile, delegationKey: world.files.delegationKey }),
    ],
    env: world.fx.env,
    stdout: "ignore",
  });
  // The agents' app listens on a port of its own (as in production), printed by the server.
  const agentsPort = await listeningPort(child);
  return { child, url: `http://127.0.0.1:${agentsPort}`, stop: () => child.stop() };
}

/** A valid exchange request for the bench agent acting for the bench workload. */
export async function exchangeBody(world: World): Promise<string> {
  const subject = await clientToken(world, WORKLOAD, world.secrets.workload, "kcb-agents");
  const actor = await clientToken(world, AGENT, world.secrets.agent, "kcb-agents");
  return new URLSearchParams({
    grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
    subject_token: subject,
    subject_token_type: JWT,
    actor_token: actor,
    actor_token_type: JWT,
    resource: ROLE_ARN,
  }).toString();
}

export async function agentsFigure(ctx: FigureContext): Promise<Row[]> {
  const { world, quick, log } = ctx;
  const seconds = quick ? 2 : 5;
  const pairs = quick ? 1 : 3;
  const body = await exchangeBody(world);
  const broker = await startAgentsBroker(world, "agents");
  const bare = spawnNode({
    args: ["--import", "tsx", "test/bench/servers/bare-jose.ts", JSON.stringify({ issuer: world.fx.issuer, audience: "kcb-agents" })],
  });
  try {
    const barePort = await listeningPort(bare);
    const headers = { "content-type": "application/x-www-form-urlencoded" };
    const first = await fetch(`${broker.url}/v1/token`, { method: "POST", headers, body });
    const answer = (await first.json()) as Record<string, unknown>;
    if (first.status !== 200) throw new Error(`the broker refused the exchange: HTTP ${first.status} ${JSON.stringify(answer)}`);
    const check = await fetch(`http://127.0.0.1:${barePort}/`, { method: "POST", headers, body });
    if (check.status !== 200) throw new Error(`the bare jose handler refused the tokens: HTTP ${check.status}`);
    const spec = (url: string): LoadSpec => ({ url, method: "POST", headers, body, connections: CONNECTIONS, durationSeconds: seconds });
    log(
      `figure 3: token exchange (${String(answer.issued_token_type)}) — ${pairs} × (broker ${seconds} s, bare jose ${seconds} s), ${CONNECTIONS} connections, ${body.length}-byte form`,
    );
    const ab = await interleaved(
      { name: "broker", spec: spec(`${broker.url}/v1/token`), pid: broker.child.pid },
      { name: "jose  ", spec: spec(`http://127.0.0.1:${barePort}/`), pid: bare.pid },
      { pairs, warmupSeconds: quick ? 1 : 2, log },
    );
    const broken = failures([...ab.a, ...ab.b]);
    const r = ratio(ab.rateA, ab.rateB);
    const row = measuredRow({
      id: "3-ratio",
      figure: "3",
      title: "agent token exchange: broker / bare jose verify, req/s",
      value: broken ? Number.NaN : r,
      shown: r.toFixed(2),
      target: atLeast(0.75),
      details: [
        `broker POST /v1/token ${fmtRate(ab.rateA)} (p99 ${fmtMs(ab.p99A)}) vs bare handler verifying the same 2 tokens with jose ${fmtRate(ab.rateB)} (p99 ${fmtMs(ab.p99B)}); ${CONNECTIONS} connections, ${pairs} interleaved pair(s) of ${seconds} s`,
        "measured per request: the /v1/token lane (node:http, body read within the limit), form parsing, verification of subject and actor token (each decoded once by the pre-check, signature with node:crypto against the JWKS key, jose's claim rules on the decoded payload), rate limit, replay store, policy, delegated Keycloak token (product cache), aws-credentials encoding, the audit event (queued, serialized and written once per event-loop turn)",
        `CPU per answered request (user + system, the server process alone): broker ${fmtMicros(ab.cpuPerRequestA)}, bare ${fmtMicros(ab.cpuPerRequestB)}${ab.cpuPerRequestA && ab.cpuPerRequestB ? ` (bare / broker ${(ab.cpuPerRequestB / ab.cpuPerRequestA).toFixed(2)}: what the ratio would be if the server alone set the pace)` : ""}`,
        "not measured: the STS call (memoized by the bench: the product calls STS per exchange, which is STS latency, not broker work); replay ids are stored per request because the load re-sends one actor token",
        ...(broken ? [`INVALID RUN: ${broken}`] : []),
      ],
    });
    if (row.status === "MISS") {
      log("figure 3: missed; profiling the exchange under the same load");
      row.explanation = await profileUnderLoad(
        "the broker's POST /v1/token",
        join(world.dir, "profile-3"),
        async (dir) => {
          const profiled = await startAgentsBroker(world, "agents-profile", dir);
          return { url: `${profiled.url}/v1/token`, stop: () => profiled.stop() };
        },
        { method: "POST", headers, body, connections: CONNECTIONS, durationSeconds: seconds },
        {
          what: "the bare jose baseline",
          start: async (dir) => {
            const b = spawnNode({
              args: [
                "--cpu-prof",
                "--cpu-prof-dir",
                dir,
                "--import",
                "tsx",
                "test/bench/servers/bare-jose.ts",
                JSON.stringify({ issuer: world.fx.issuer, audience: "kcb-agents" }),
              ],
            });
            const port = await listeningPort(b);
            return { url: `http://127.0.0.1:${port}/`, stop: () => b.stop() };
          },
        },
      );
      row.explanation.unshift(
        `the bare handler verified the same two tokens with jose at ${fmtRate(ab.rateB)}: the difference is the exchange's other per-request work below (form and pre-checks, policy, rate limit, replay store, the credentials' encoding, two token fingerprints and the audit event, a larger answer) — node:internal crypto frames are the two RSA verifications both sides do (the broker with node:crypto, the baseline with WebCrypto).`,
      );
    }
    return [row];
  } finally {
    await Promise.all([broker.stop(), bare.stop()]);
  }
}
