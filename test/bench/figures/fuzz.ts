/**
 * The long security fuzz run: property-based requests (fast-check, see fuzz/cases.ts) against the
 * production broker process — the bundle with the agents' endpoint configured (rate limit set out
 * of reach so that refusals come from the checks, not the bucket) — on POST /v1/token and every
 * credential endpoint. Every case is invalid by construction: counted are the cases, the 5xx
 * answers (must be 0) and the answers carrying a credential (must be 0). A control request, valid,
 * must get credentials first (proving the endpoint can issue them at all).
 */
import { createPrivateKey } from "node:crypto";
import { createServer, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { certificateMaterial } from "../../../admin-scripts/desired/signing-key.ts";
import { freePort } from "../../../deploy/local/net.ts";
import { ensureLocalPki } from "../../../deploy/local/pki/local-pki.ts";
import { fuzzBroker, type FuzzTarget } from "../../support/faults/fuzz-requests.ts";
import { attackerKey } from "../../support/faults/jwt-attacks.ts";
import { fuzzCase, leaksCredential, type FuzzCase, type FuzzInputs } from "../fuzz/cases.ts";
import { startBrokerProcess } from "../env/broker-process.ts";
import { clientToken } from "../env/tokens.ts";
import { AGENT, APP_CLIENT_ID, ENTRA_RESOURCE, ROLE_ARN, WORKLOAD, type World } from "../env/world.ts";
import { measuredRow, type Row } from "../report/rows.ts";
import { atLeast, exactly } from "../report/targets.ts";
import type { FigureContext } from "./serving.ts";

const CONCURRENCY = 16;

interface Answer {
  status: number;
  body: string;
}

/** Status -2: Node's own client refused to send it (an invalid header character): it never reached the broker. */
const NOT_SENT = -2;

/** The broker's two listeners: credentials (plain http, loopback) and the agents' own HTTPS one. */
interface Ports {
  credentials: number;
  agents: number;
}

/** Sends a case to the listener that serves its endpoint: token exchanges over TLS to the agents' port. */
function send(ports: Ports, c: FuzzCase): Promise<Answer> {
  const tls = c.endpoint === "token";
  const request = tls ? httpsRequest : httpRequest;
  const port = tls ? ports.agents : ports.credentials;
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    for (const [k, v] of c.headers) headers[k] = v;
    if (c.body !== undefined) headers["content-length"] = String(Buffer.byteLength(c.body));
    let req;
    try {
      req = request({ host: "127.0.0.1", port, method: c.method, path: c.path, headers }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", () => resolve({ status: -1, body }));
      });
    } catch (error) {
      resolve({ status: NOT_SENT, body: String(error) });
      return;
    }
    req.on("error", (e) => resolve({ status: -1, body: String(e) }));
    req.setTimeout(15_000, () => req.destroy(new Error("timeout")));
    req.end(c.body);
  });
}

/** Counts requests to URLs a forged token points at (`jku`, `x5u`): the broker must never fetch them. */
async function startRecorder(): Promise<{ url: string; hits: () => number; close: () => Promise<void> }> {
  let hits = 0;
  const server = createServer((_req, res) => {
    hits += 1;
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits: () => hits,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * The fault suite's generators and oracle (test/support/faults/fuzz-requests.ts, the ones `npm test`
 * runs a few thousand of), with validly signed forgeries: the realm's own key and an attacker's.
 */
async function sharedGenerators(
  world: World,
  target: Omit<FuzzTarget, "keys" | "recorderUrl">,
  urls: { baseUrl: string; tokenUrl: string },
  numRuns: number,
  seed: number,
  recorderUrl: string,
) {
  const realmKey = world.fx.keys.find((k) => k.status === "active") ?? world.fx.keys[0];
  const keys = realmKey
    ? {
        realm: { privateKey: createPrivateKey(realmKey.pem), kid: certificateMaterial(realmKey.certificatePem).kid },
        attacker: await attackerKey(),
      }
    : undefined;
  try {
    const stats = await fuzzBroker({ ...urls, target: { ...target, ...(keys && { keys }), recorderUrl }, numRuns, seed });
    return { runs: stats.runs, statuses: stats.statuses, violation: undefined };
  } catch (error) {
    return { runs: Number.NaN, statuses: {}, violation: (error as Error).message.split("\n").slice(0, 6).join(" ") };
  }
}

export async function fuzzFigure(ctx: FigureContext): Promise<Row[]> {
  const { world, quick, log } = ctx;
  const runs = ctx.fuzzCases ?? (quick ? 1_000 : 10_000);
  const seed = Number(process.env.KCB_BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);
  const agentsPort = await freePort();
  const pki = await ensureLocalPki();
  const broker = await startBrokerProcess(world, {
    name: "fuzz",
    env: world.fx.env,
    extraConfig: {
      agents: {
        realmConfigFile: world.fx.configFile,
        delegationKey: { keyFile: world.files.delegationKey },
        rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
        listen: { port: agentsPort, tls: { certFile: pki.serverCertFile, keyFile: pki.serverKeyFile } },
      },
    },
  });
  const ports: Ports = { credentials: broker.port, agents: agentsPort };
  try {
    const fresh: string[] = [];
    const pool = quick ? 20 : 150;
    for (let i = 0; i < pool; i++) fresh.push(await clientToken(world, AGENT, world.secrets.agent, "kcb-agents"));
    const inputs: FuzzInputs = {
      subjectToken: await clientToken(world, WORKLOAD, world.secrets.workload, "kcb-agents"),
      actorToken: await clientToken(world, AGENT, world.secrets.agent, "kcb-agents"),
      otherAudienceToken: await clientToken(world, WORKLOAD, world.secrets.workload, "kcb-aws"),
      roleArn: ROLE_ARN,
      awsAuthToken: broker.awsAuthToken(),
      identityHeader: broker.identityHeader(),
      resource: ENTRA_RESOURCE,
      awsTarget: "main",
    };
    const controlBody = new URLSearchParams({
      grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
      subject_token: inputs.subjectToken,
      subject_token_type: "urn:ietf:params:oauth:token-type:jwt",
      actor_token: fresh.pop() ?? "",
      actor_token_type: "urn:ietf:params:oauth:token-type:jwt",
      resource: ROLE_ARN,
    }).toString();
    const control = await send(ports, {
      endpoint: "token",
      method: "POST",
      path: "/v1/token",
      headers: [["content-type", "application/x-www-form-urlencoded"]],
      body: controlBody,
      mutations: [],
    });
    const controlOk = control.status === 200 && leaksCredential(control.status, control.body);

    const cases = fc.sample(fuzzCase(inputs), { numRuns: runs, seed });
    log(`fuzz: ${cases.length} invalid requests (seed ${seed}), ${CONCURRENCY} in flight; control exchange answered ${control.status}`);
    const statuses: Record<string, number> = {};
    const perEndpoint: Record<string, number> = {};
    const serverErrors: string[] = [];
    const leaks: string[] = [];
    let transportErrors = 0;
    let notSent = 0;
    let freshUsed = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (let i = next++; i < cases.length; i = next++) {
        let c = cases[i] as FuzzCase;
        if (c.wantsFreshActor && c.body !== undefined && fresh.length) {
          const token = fresh.pop() ?? "";
          freshUsed += 1;
          c = { ...c, body: c.body.split(inputs.actorToken).join(token) };
        }
        const a = await send(ports, c);
        if (a.status === NOT_SENT) {
          notSent += 1;
          continue;
        }
        statuses[a.status] = (statuses[a.status] ?? 0) + 1;
        perEndpoint[c.endpoint] = (perEndpoint[c.endpoint] ?? 0) + 1;
        const what = `${c.method} ${c.path.slice(0, 80)} [${c.mutations.join("; ")}] → ${a.status} ${a.body.slice(0, 160)}`;
        if (a.status < 0) transportErrors += 1;
        if (a.status >= 500 || a.status < 0) serverErrors.push(what);
        if (leaksCredential(a.status, a.body)) leaks.push(what);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    const seconds = (performance.now() - started) / 1000;

    const recorder = await startRecorder();
    const sessionsBefore = world.sts.sessions().length;
    const shared = await sharedGenerators(
      world,
      {
        awsContainerToken: inputs.awsAuthToken,
        identityHeader: inputs.identityHeader,
        awsTargets: ["main"],
        azureResources: [ENTRA_RESOURCE],
        azureClientIds: [APP_CLIENT_ID],
        subjectToken: inputs.subjectToken,
        actorToken: inputs.actorToken,
        roleArn: ROLE_ARN,
      },
      { baseUrl: broker.url, tokenUrl: `https://localhost:${agentsPort}` },
      runs,
      seed,
      recorder.url,
    );
    const minted = world.sts.sessions().length - sessionsBefore;
    const fetched = recorder.hits();
    await recorder.close();
    log(
      `fuzz: the fault suite's generators: ${shared.runs} requests${shared.violation ? `, VIOLATION: ${shared.violation}` : ""}; STS sessions minted meanwhile: ${minted}; attacker URLs fetched: ${fetched}`,
    );
    if (shared.violation) leaks.push(`fault-suite generators: ${shared.violation}`);
    if (minted > 0) leaks.push(`${minted} STS session(s) minted by the broker during the fault suite's run of invalid requests`);
    if (fetched > 0) leaks.push(`the broker fetched an attacker's jku/x5u URL ${fetched} time(s)`);
    const alive =
      broker.child.process.exitCode === null &&
      (await fetch(`${broker.url}/healthz`).then(
        (r) => r.status,
        () => 0,
      )) === 200;
    const summary = `${cases.length} cases in ${seconds.toFixed(1)} s against the production bundle (agents endpoint on): ${Object.entries(
      perEndpoint,
    )
      .map(([e, n]) => `${e} ${n}`)
      .join(", ")}; statuses ${JSON.stringify(statuses)}; seed ${seed} (KCB_BENCH_FUZZ_SEED to replay)`;
    const sharedRuns = Number.isNaN(shared.runs) ? 0 : shared.runs;
    const total = cases.length - notSent + sharedRuns;
    const rows = [
      measuredRow({
        id: "fuzz-cases",
        figure: "fuzz",
        title: "security fuzz: invalid requests sent",
        value: controlOk && alive ? total : Number.NaN,
        shown: total.toLocaleString("en-US"),
        target: atLeast(10_000),
        details: [
          `bench generators (test/bench/fuzz/cases.ts): ${summary}`,
          `the fault suite's generators (test/support/faults/fuzz-requests.ts, also in npm test; validly signed forgeries with the realm's key and an attacker's): ${Number.isNaN(shared.runs) ? "stopped at a violation" : `${shared.runs} requests, statuses ${JSON.stringify(shared.statuses)}`}; STS sessions minted meanwhile: ${minted}; attacker jku/x5u URLs fetched: ${fetched}`,
          `control (a valid exchange) got credentials: ${controlOk ? "yes" : `NO (HTTP ${control.status})`}; ${freshUsed} policy-level cases used an unused actor token (the others are refused by the replay check after the token's first use); broker alive and healthy after the run: ${alive ? "yes" : "NO"}; connections cut: ${transportErrors}; not sent (Node's client refused a header): ${notSent}`,
        ],
      }),
      measuredRow({
        id: "fuzz-5xx",
        figure: "fuzz",
        title: "security fuzz: 5xx answers or cut connections",
        value: serverErrors.length,
        shown: String(serverErrors.length),
        target: exactly(0),
        details: serverErrors.slice(0, 5),
      }),
      measuredRow({
        id: "fuzz-leaks",
        figure: "fuzz",
        title: "security fuzz: credentials given to invalid requests",
        value: leaks.length,
        shown: String(leaks.length),
        target: exactly(0),
        details: leaks.slice(0, 5),
      }),
    ];
    return rows;
  } finally {
    await broker.stop();
  }
}
