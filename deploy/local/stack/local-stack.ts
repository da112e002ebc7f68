import { randomUUID } from "node:crypto";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { AGENTS_SCOPE } from "../../../realm-config/model/conventions.ts";
import { TrustDomain } from "../../../realm-config/model/schema.ts";
import { loadTrustExport } from "../../../admin-scripts/trust/artifacts.ts";
import {
  loadCloudAccounts,
  startAzureOpenAiEmulator,
  startBedrockEmulator,
  startEntraEmulator,
  startStsEmulator,
  type AzureOpenAiEmulator,
  type BedrockEmulator,
  type EntraEmulator,
  type StsEmulator,
} from "../cloud/index.ts";
import { startTrustDomain, type RunningTrustDomain } from "../keycloak/trust-domain.ts";
import { startKubeIssuer } from "../issuer/kube-issuer.ts";
import { repoRoot } from "../paths.ts";
import { caTrustEnv } from "../pki/local-pki.ts";
import { startBroker, type BrokerProcess } from "./brokers.ts";
import { localTrustDomain, writeTrustDomain } from "./demo-config.ts";
import { ensureSigningKey } from "../keycloak/keystore.ts";
import { ensureLocalSecrets, type LocalSecrets } from "./secrets.ts";
import type { StackComponent } from "./state.ts";

export interface LocalStackOptions {
  stateDir: string;
  fresh: boolean;
  frontPort: number;
  log: (line: string) => void;
}

export interface LocalStack {
  domain: RunningTrustDomain;
  issuer: string;
  /** The example realm-config bound to this machine, as realm-sync applied it. */
  configFile: string;
  sts: StsEmulator;
  entra: EntraEmulator;
  bedrock: BedrockEmulator;
  azureOpenAi: AzureOpenAiEmulator;
  /** The CloudTrail-like event log of the Bedrock emulator and the activity log of the Azure OpenAI one (JSON lines). */
  logs: { bedrock: string; azureOpenAi: string };
  brokers: Map<string, BrokerProcess>;
  secrets: LocalSecrets;
  components(): StackComponent[];
  /** The environment a workload needs to use its sidecar with unmodified SDKs (AWS container + Azure App Service modes). */
  workloadEnv(workload?: string): Record<string, string>;
  stop(): Promise<void>;
}

const REALM = "trust";
/** The Entra emulator's protected test API stands in for Azure Storage. */
const AZURE_RESOURCE = "https://storage.azure.com";
/** The customer's side of the local clouds behind the example trust domain (role policies, models, deployments, role assignments). */
export const EXAMPLE_ACCOUNTS = join(repoRoot, "deploy", "local", "cloud", "accounts", "example.yaml");
/** What the example workloads may use: every example role may invoke this model, every identity this deployment. */
export const EXAMPLE_MODEL_ID = "amazon.nova-micro-v1:0";
export const EXAMPLE_DEPLOYMENT = "gpt-4o-mini";
const DEMO_AGENT_CLIENT = "report-assistant";

/** Runs a realm-sync command the way an operator does (the CLI), echoing its output. */
async function realmSync(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs"), join(repoRoot, "admin-scripts", "main.ts"), ...args],
    { env, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  for (const line of output.split("\n").filter((l) => l.trim() && !l.includes("NodeVersionSupportWarning"))) log(`  ${line}`);
  if (code !== 0) throw new Error(`realm-sync ${args[0]} exited with ${code}`);
}

/** The demo agent's own Keycloak client: made by hand, as an operator onboards an agent (realm-sync manages only workloads). */
async function ensureAgentClient(domain: RunningTrustDomain, secret: string): Promise<void> {
  for (const cluster of domain.info.clusters) {
    const admin = new KcAdminClient({ baseUrl: cluster.url, realmName: "master" });
    await admin.auth({ grantType: "password", clientId: "admin-cli", ...domain.info.admin });
    admin.setConfig({ realmName: REALM });
    const [existing] = await admin.clients.find({ clientId: DEMO_AGENT_CLIENT });
    const representation = {
      clientId: DEMO_AGENT_CLIENT,
      secret,
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      defaultClientScopes: ["basic", "service_account"],
      optionalClientScopes: [AGENTS_SCOPE],
    };
    if (existing?.id) await admin.clients.update({ id: existing.id }, representation);
    else await admin.clients.create(representation);
  }
}

/**
 * Brings up the whole local trust domain in order and stops it in reverse order: two Keycloak
 * clusters behind the issuer front, the kube-apiserver stand-in, the example realm-config applied
 * with realm-sync, the cloud trust exported into the strict STS and Entra emulators, and one
 * `cloud-broker` sidecar per example workload.
 */
export async function startLocalStack(opts: LocalStackOptions): Promise<LocalStack> {
  const { log } = opts;
  const stops: Array<() => Promise<void>> = [];
  try {
    const domain = await startTrustDomain({
      stateDir: join(opts.stateDir, "keycloak"),
      fresh: opts.fresh,
      frontPort: opts.frontPort,
      routing: "round-robin",
      log,
    });
    stops.push(() => domain.stop());
    const trustEnv = caTrustEnv(domain.pki);
    const secrets = ensureLocalSecrets(opts.stateDir);
    // The signing key reaches every cluster as a keystore file, the way a mounted Secret does; realm-sync gets only its certificate.
    ensureSigningKey({ realm: REALM, name: "trust-2026", certificateFile: secrets.signingCertificate, servers: domain.info.clusters });
    // A stable address (the port after the issuer's), so a second run finds the realm unchanged.
    const kube = await startKubeIssuer({ pki: domain.pki, port: opts.frontPort + 1 });
    stops.push(() => kube.close());
    const issuer = `${domain.info.publicUrl}/realms/${REALM}`;

    const configFile = join(opts.stateDir, "trust-domain.yaml");
    const doc = localTrustDomain({ issuer, clusters: domain.info.clusters, kubeIssuer: kube.issuer, secrets });
    writeTrustDomain(doc, configFile);
    // The bootstrap admin only creates realm-sync's own identities; apply signs in with the apply identity.
    const bootstrapEnv = {
      ...process.env,
      ...trustEnv,
      KC_BOOTSTRAP_ADMIN_USERNAME: domain.info.admin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: domain.info.admin.password,
    };
    log(`realm-sync bootstrap-identities ${configFile}`);
    await realmSync(["bootstrap-identities", configFile], bootstrapEnv, log);
    const syncEnv = { ...process.env, ...trustEnv };
    log(`realm-sync apply ${configFile}`);
    await realmSync(["apply", configFile], syncEnv, log);
    const trustDir = join(opts.stateDir, "cloud-trust");
    log(`realm-sync export-trust --out ${trustDir}`);
    await realmSync(["export-trust", configFile, "--out", trustDir], syncEnv, log);
    await ensureAgentClient(domain, readFileSync(secrets.agentSecret, "utf8"));

    const trust = loadTrustExport(trustDir);
    const sts = await startStsEmulator({ trust, allowIssuerPort: true });
    stops.push(() => sts.close());
    const entra = await startEntraEmulator({ trust, pki: domain.pki, resource: AZURE_RESOURCE });
    stops.push(() => entra.close());
    log(
      `STS emulator ${sts.url} (${trust.aws.roles.length} roles), Entra emulator ${entra.url} (${trust.azure.federatedCredentials.length} federated credentials)`,
    );
    const accounts = loadCloudAccounts(EXAMPLE_ACCOUNTS);
    const logs = { bedrock: join(opts.stateDir, "bedrock-events.jsonl"), azureOpenAi: join(opts.stateDir, "azure-openai-activity.jsonl") };
    for (const file of Object.values(logs)) rmSync(file, { force: true });
    const bedrock = await startBedrockEmulator({ sts, accounts, pki: domain.pki, eventLogFile: logs.bedrock });
    stops.push(() => bedrock.close());
    const azureOpenAi = await startAzureOpenAiEmulator({ entra, accounts, pki: domain.pki, activityLogFile: logs.azureOpenAi });
    stops.push(() => azureOpenAi.close());
    log(
      `Bedrock Runtime emulator ${bedrock.url} (${accounts.aws.foundationModels.length} models), Azure OpenAI emulator ${azureOpenAi.url} (${accounts.azure.deployments.length} deployments)`,
    );

    const brokers = new Map<string, BrokerProcess>();
    const config = TrustDomain.parse(doc);
    const actedFor = new Set(config.agents.flatMap((a) => a.actFor));
    for (const workload of config.workloads) {
      const dir = join(opts.stateDir, "brokers", workload.name);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      let authentication: Record<string, unknown>;
      const auth = workload.authentication;
      if ("kubernetes" in auth) {
        // The kubelet's job: a projected service-account token, refreshed long before it expires.
        const tokenFile = join(dir, "serviceaccount-token");
        const [, , namespace = "", serviceAccount = ""] = auth.kubernetes.serviceAccount.split(":");
        // One pod per sidecar: its refreshed tokens stay bound to the same pod name and uid.
        const pod = { name: `${serviceAccount}-${randomUUID().slice(0, 5)}`, uid: randomUUID() };
        const project = () =>
          kube.writeProjectedToken(tokenFile, { namespace, serviceAccount, audience: issuer, expirationSeconds: 3600, pod });
        await project();
        const timer = setInterval(() => void project().catch((e: Error) => log(`kube token refresh failed: ${e.message}`)), 20 * 60_000);
        timer.unref();
        stops.push(() => Promise.resolve(clearInterval(timer)));
        authentication = { kubernetes: { tokenFile } };
      } else if ("privateKeyJwt" in auth) {
        authentication = { privateKeyJwt: { keyFile: secrets.reportingKey, alg: "RS256" } };
      } else {
        authentication = { clientSecret: { file: secrets.legacySecret } };
      }
      const broker = await startBroker(
        {
          workload,
          issuer,
          authentication,
          stsEndpoint: sts.url,
          authorityHost: entra.url,
          dir,
          env: trustEnv,
          ...(actedFor.has(workload.name) && {
            agents: {
              realmConfigFile: configFile,
              delegationKeyFile: secrets.delegationKey,
              tls: { certFile: domain.pki.serverCertFile, keyFile: domain.pki.serverKeyFile },
            },
          }),
        },
        log,
      );
      brokers.set(workload.name, broker);
      stops.push(() => broker.stop());
    }

    const stack: LocalStack = {
      domain,
      issuer,
      configFile,
      sts,
      entra,
      bedrock,
      azureOpenAi,
      logs,
      brokers,
      secrets,
      components: () => [
        ...domain.info.clusters.map((c): StackComponent => ({
          name: `keycloak-${c.name}`,
          kind: "keycloak",
          url: c.url,
          healthUrl: `${c.managementUrl}/health/ready`,
          pid: c.pid,
        })),
        { name: "issuer-front", kind: "issuer-front", url: domain.info.publicUrl, healthUrl: `${issuer}/.well-known/openid-configuration` },
        { name: "kube-issuer", kind: "kube-issuer", url: kube.issuer, healthUrl: `${kube.issuer}/.well-known/openid-configuration` },
        { name: "sts-emulator", kind: "sts-emulator", url: sts.url },
        { name: "entra-emulator", kind: "entra-emulator", url: entra.url },
        { name: "bedrock-emulator", kind: "bedrock-emulator", url: bedrock.url },
        { name: "azure-openai-emulator", kind: "azure-openai-emulator", url: azureOpenAi.url },
        ...[...brokers.values()].map((b): StackComponent => ({
          name: `broker-${b.workload}`,
          kind: "broker",
          url: b.url,
          healthUrl: `${b.url}/readyz`,
          pid: b.pid,
        })),
      ],
      workloadEnv(workload = "payments-api") {
        const broker = brokers.get(workload);
        const w = config.workloads.find((x) => x.name === workload);
        if (!broker || !w) throw new Error(`no broker for workload ${workload}`);
        return {
          ...(w.aws && broker.env("aws-container")),
          // Only because the clouds are local: real AWS needs no endpoint override.
          ...(w.aws && {
            AWS_ENDPOINT_URL_STS: sts.url,
            AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.url,
            AWS_REGION: bedrock.region,
            BEDROCK_MODEL_ID: EXAMPLE_MODEL_ID,
          }),
          ...(w.azure && {
            ...broker.env("azure-app-service"),
            AZURE_OPENAI_ENDPOINT: azureOpenAi.url,
            OPENAI_API_VERSION: azureOpenAi.apiVersion,
            AZURE_OPENAI_DEPLOYMENT: EXAMPLE_DEPLOYMENT,
          }),
          ...trustEnv,
        };
      },
      stop: () => stopAll(stops),
    };
    return stack;
  } catch (error) {
    await stopAll(stops);
    throw error;
  }
}

async function stopAll(stops: Array<() => Promise<void>>): Promise<void> {
  for (const stop of stops.reverse()) {
    try {
      await stop();
    } catch (error) {
      console.error(`stop failed: ${(error as Error).message}`);
    }
  }
}
