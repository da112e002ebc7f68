/**
 * Wires the agents' RFC 8693 endpoint (broker/agents/) to the real adapters, as its README
 * describes: the verifier pinned to the trust domain's issuer and JWKS, the policy from the
 * realm-sync file (reloaded on change), the core's STS and Entra exchanges as the minter, Keycloak
 * delegation clients authenticated with the broker's key, audit as JSON lines on stdout.
 */
import { readFile } from "node:fs/promises";
import type { Hono } from "hono";
import { importPKCS8 } from "jose";
import { AGENTS_AUDIENCE } from "../../realm-config/model/conventions.ts";
import { createTokenExchange, type TokenExchangeLane } from "../agents/app.ts";
import { jsonLinesAuditSink } from "../agents/audit.ts";
import { keycloakDelegatedTokens, privateKeyJwtAuth } from "../agents/keycloak-delegation.ts";
import { openFilePolicyStore, type FilePolicyStore } from "../agents/policy/file-store.ts";
import { cloudMinter, type CloudMinterOptions } from "../agents/minter.ts";
import { tokenBucketLimiter } from "../agents/rate-limit.ts";
import { memoryReplayCache } from "../agents/replay.ts";
import { remoteKeys } from "../agents/verify/remote-keys.ts";
import { systemClock } from "../clock.ts";
import type { Config } from "../config.ts";
import { BrokerError } from "../errors.ts";
import type { Logger } from "../log.ts";
import { publicKeyThumbprint } from "../token-source/client-auth.ts";

export interface AgentsEndpoint {
  app: Hono;
  /** `POST /v1/token` over node:http, tried before the app (broker/agents/app.ts). */
  lane: TokenExchangeLane;
  close(): void;
}

/** The minter's settings from the config: `agents.aws`/`agents.azure` first, then the workload's own sections. */
export function minterOptions(config: Config): CloudMinterOptions {
  const agents = config.agents;
  const aws = agents?.aws ?? config.aws;
  if (!aws) throw new BrokerError("CONFIG_INVALID", "agents need an AWS region (agents.aws.region or an aws section)");
  return {
    region: aws.region,
    ...(aws.stsEndpoint !== undefined && { stsEndpoint: aws.stsEndpoint }),
    authorityHost: agents?.azure?.authorityHost ?? config.azure?.authorityHost ?? "https://login.microsoftonline.com",
    timeoutMs: config.upstream.timeoutSeconds * 1000,
    maxAttempts: config.upstream.maxAttempts,
  };
}

/** The endpoint for `config.agents`, or undefined when the section is absent. */
export async function createAgentsEndpoint(
  config: Config,
  env: Readonly<Record<string, string | undefined>>,
  logger: Logger,
): Promise<AgentsEndpoint | undefined> {
  const agents = config.agents;
  if (!agents) return undefined;
  const { keyFile, alg, kid } = agents.delegationKey;
  let pem: string;
  try {
    pem = await readFile(keyFile, "utf8");
  } catch (error) {
    throw new BrokerError("CONFIG_INVALID", `agents.delegationKey.keyFile ${keyFile} cannot be read`, { cause: error });
  }
  let key: Awaited<ReturnType<typeof importPKCS8>>;
  try {
    key = await importPKCS8(pem, alg);
  } catch (error) {
    throw new BrokerError("CONFIG_INVALID", `agents.delegationKey.keyFile ${keyFile} is not a PKCS#8 PEM key for ${alg}`, { cause: error });
  }
  let policy: FilePolicyStore;
  try {
    policy = openFilePolicyStore({ file: agents.realmConfigFile, issuer: config.issuer, env, log: logger });
  } catch (error) {
    throw new BrokerError("CONFIG_INVALID", error instanceof Error ? error.message : "agents policy not loaded", { cause: error });
  }
  const audit = jsonLinesAuditSink();
  const { app, lane } = createTokenExchange({
    verifier: {
      issuer: config.issuer,
      audience: AGENTS_AUDIENCE,
      keys: remoteKeys(new URL(`${config.issuer}/protocol/openid-connect/certs`)),
    },
    policy,
    minter: cloudMinter(minterOptions(config)),
    delegation: keycloakDelegatedTokens({
      issuer: config.issuer,
      clientAuth: privateKeyJwtAuth(key, kid ?? (await publicKeyThumbprint(pem))),
      clock: systemClock,
    }),
    clock: systemClock,
    audit,
    rateLimiter: tokenBucketLimiter(agents.rateLimit, systemClock),
    replay: memoryReplayCache({}, systemClock),
    servedClientId: config.clientId,
  });
  return {
    app,
    lane,
    close: () => {
      audit.flush();
      policy.close();
    },
  };
}
