/**
 * `npm run demo [-- --once]`: the product on its local default, end to end.
 *
 * Starts the two-cluster Keycloak trust domain (downloading Keycloak on first run), applies the
 * example realm-config with realm-sync, exports the cloud trust into the strict STS and Entra
 * emulators, starts one cloud-broker sidecar per example workload, runs an example workload that
 * uses only the unmodified AWS and Azure SDKs, and an agent that uses the token-exchange endpoint.
 * Ends with a report; then stays up (Ctrl-C stops everything) unless `--once`.
 */
import { createPrivateKey, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { parse } from "yaml";
import { TrustDomain } from "../../../realm-config/model/schema.ts";
import { cacheDir } from "../paths.ts";
import { caTrustEnv } from "../pki/local-pki.ts";
import { startLocalStack, type LocalStack } from "../stack/local-stack.ts";
import { modelReport } from "./model-report.ts";
import { runDemoProgram } from "./run-program.ts";
import { runTrustingLocalCa } from "../pki/trust-local-ca.ts";

await runTrustingLocalCa();

const { values } = parseArgs({
  options: {
    once: { type: "boolean", default: false },
    fresh: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (values.help) {
  console.log(`usage: npm run demo [-- --once] [-- --fresh]

  Runs the whole product locally: two Keycloak clusters (eu, us) behind one issuer, realm-sync,
  strict AWS STS and Entra ID emulators, one cloud-broker sidecar per example workload, an example
  workload using only the unmodified AWS and Azure SDKs, and an agent using token exchange.

  --once    print the report, stop everything, exit 0 if every call succeeded (1 otherwise)
  --fresh   start from empty Keycloak databases instead of reusing the last run's state

  Environment: KCB_FRONT_PORT (issuer port, default 8443), KCB_CACHE_DIR (downloads and state).`);
  process.exit(0);
}

const stateDir = join(cacheDir(), "state", "demo");
const step = (line: string) => console.log(`• ${line}`);

/** The workload hands its own token (audience kcb-agents) to the agent it delegates to. */
async function workloadTokenForAgent(stack: LocalStack): Promise<string> {
  const key = createPrivateKey(readFileSync(stack.secrets.reportingKey));
  const tokenEndpoint = `${stack.issuer}/protocol/openid-connect/token`;
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: "RS256" })
    .setIssuer("reporting-batch")
    .setSubject("reporting-batch")
    .setAudience(stack.issuer)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime("60s")
    .sign(key);
  const res = await fetch(tokenEndpoint, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "reporting-batch",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
      scope: "kcb-agents",
    }),
  });
  if (res.status !== 200) throw new Error(`reporting-batch token for the agent: HTTP ${res.status}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

const started = Date.now();
const stack = await startLocalStack({ stateDir, fresh: values.fresh, frontPort: Number(process.env.KCB_FRONT_PORT ?? 8443), log: step });
let allOk = true;
const lines: string[] = [];
try {
  step("running the example workload (unmodified Bedrock and Azure OpenAI SDKs, default credential chains) next to each sidecar …");
  for (const name of stack.brokers.keys()) {
    const result = await runDemoProgram("workload.ts", stack.workloadEnv(name));
    for (const [api, outcome] of Object.entries(result)) {
      const d = outcome.detail as Record<string, unknown>;
      allOk &&= outcome.ok === true;
      const what = api === "bedrock" ? `Bedrock ${d.modelId as string}` : `Azure OpenAI ${d.deployment as string}`;
      lines.push(
        outcome.ok
          ? `  ${name.padEnd(16)} ${what}: ${String(d.text)}`
          : `  ${name.padEnd(16)} ${api} FAILED ${String(d.error)}: ${String(d.message)}`,
      );
    }
  }

  step(
    "running the agent report-assistant acting for reporting-batch (RFC 8693 token exchange), one allowed and one refused model per cloud …",
  );
  const agentDir = join(stateDir, "agent");
  mkdirSync(agentDir, { recursive: true, mode: 0o700 });
  const subjectFile = join(agentDir, "subject-token");
  writeFileSync(subjectFile, await workloadTokenForAgent(stack), { mode: 0o600 });
  const workloadEnv = stack.workloadEnv("reporting-batch");
  const agent = await runDemoProgram("agent.ts", {
    ISSUER: stack.issuer,
    AGENT_CLIENT_ID: "report-assistant",
    AGENT_SECRET_FILE: stack.secrets.agentSecret,
    SUBJECT_TOKEN_FILE: subjectFile,
    BROKER_URL: stack.brokers.get("reporting-batch")!.agentsUrl!,
    AWS_ROLE: "arn:aws:iam::111122223333:role/reporting-read",
    AZURE_IDENTITY: "reporting-storage",
    AWS_REGION: stack.bedrock.region,
    AWS_ENDPOINT_URL_BEDROCK_RUNTIME: stack.bedrock.url,
    AZURE_OPENAI_ENDPOINT: stack.azureOpenAi.url,
    OPENAI_API_VERSION: stack.azureOpenAi.apiVersion,
    // The session policy of the agent allows the first model only; its identity has a role on the first deployment only.
    BEDROCK_MODELS: `${workloadEnv.BEDROCK_MODEL_ID},amazon.nova-lite-v1:0`,
    AZURE_OPENAI_DEPLOYMENTS: `${workloadEnv.AZURE_OPENAI_DEPLOYMENT},gpt-4o`,
    ...caTrustEnv(stack.domain.pki),
  });
  for (const [api, outcome] of Object.entries(agent)) {
    const calls = (outcome.calls ?? {}) as Record<string, { ok: boolean; text?: string; error?: string; status?: number }>;
    const results = Object.values(calls).map((c) => c.ok);
    // Expected: the first call allowed, the second refused by the cloud (403 Bedrock, 401 Azure OpenAI).
    allOk &&= outcome.ok === true && results.length === 2 && results[0] === true && results[1] === false;
    if (outcome.ok !== true) lines.push(`  report-assistant ${api} FAILED ${String(outcome.error)}: ${String(outcome.message)}`);
    for (const [model, c] of Object.entries(calls))
      lines.push(
        `  ${"report-assistant".padEnd(16)} ${api === "bedrock" ? "Bedrock" : "Azure OpenAI"} ${model}: ${c.ok ? String(c.text) : `refused (${[c.status, c.error].filter((part) => part !== undefined).join(" ")})`}`,
      );
  }
  const sessions = stack.sts.sessions();
  const delegated = sessions.filter((s) => s.sourceIdentity);
  const counts = stack.domain.front.tokenRequestsByCluster();
  const config = TrustDomain.parse(parse(readFileSync(stack.configFile, "utf8")));
  const identities = new Map(
    config.workloads.flatMap((w) => (w.azure?.identities ?? []).map((i) => [i.clientId.toLowerCase(), `${i.name} of ${w.name}`] as const)),
  );

  console.log(`
Report (${((Date.now() - started) / 1000).toFixed(1)} s, Keycloak ${stack.domain.info.keycloakVersion})
  issuer ${stack.issuer}
  Keycloak token requests answered: ${
    Object.entries(counts)
      .map(([c, n]) => `${c} ${n}`)
      .join(", ") || "none"
  } (one issuer, any cluster)
  STS sessions issued: ${sessions.length} (${delegated.length} with a SourceIdentity: ${[...new Set(delegated.map((s) => s.sourceIdentity))].join(", ")})
  what each program got back:
${lines.join("\n")}
${modelReport(stack.logs, identities)}
  ${allOk ? "Every call the credentials allow succeeded through the sidecars, and the agent was refused exactly what its narrowed access excludes." : "SOME CALLS DID NOT GO AS EXPECTED: see the lines above and the logs under " + stateDir}
`);
} catch (error) {
  allOk = false;
  console.error(`demo failed: ${(error as Error).message}`);
}

let stopping = false;
async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log("stopping everything the demo started …");
  await stack.stop();
  console.log("stopped.");
  process.exit(code);
}
if (values.once) {
  await shutdown(allOk ? 0 : 1);
} else {
  console.log(`Up until Ctrl-C. Endpoints:
${stack
  .components()
  .map((c) => `  ${c.name.padEnd(24)} ${c.url}`)
  .join("\n")}

A workload next to the payments-api sidecar needs exactly:
${Object.entries(stack.workloadEnv("payments-api"))
  .map(([k, v]) => `  export ${k}=${v}`)
  .join("\n")}
`);
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
}
