/**
 * Shared test fixtures: a trust domain with two workloads and two agents, real keys generated at run
 * time, a token signer that can also forge any header, and fake ports that record what they get.
 */
import { createHmac, createSign, generateKeyPairSync, type KeyObject } from "node:crypto";
import { createLocalJWKSet, exportJWK, type JWK, type JWTPayload } from "jose";
import { TrustDomain } from "../../../realm-config/model/schema.ts";
import { AWS_SOURCE_IDENTITY_CLAIM, agentSessionName } from "../../../realm-config/model/conventions.ts";
import type { AuditEvent } from "../../../broker/agents/audit.ts";
import type { TokenExchangeDeps } from "../../../broker/agents/exchange.ts";
import { compilePolicy } from "../../../broker/agents/policy/compile.ts";
import type { CompiledPolicy } from "../../../broker/agents/policy/types.ts";
import type { AssumeRoleRequest } from "../../../broker/exchange/aws-sts.ts";
import type { EntraTokenRequest } from "../../../broker/exchange/azure-entra.ts";
import type { Clock } from "../../../broker/clock.ts";
import { memoryReplayCache } from "../../../broker/agents/replay.ts";
import { tokenBucketLimiter } from "../../../broker/agents/rate-limit.ts";
import { TOKEN_EXCHANGE_GRANT, JWT_TOKEN_TYPE } from "../../../broker/agents/protocol.ts";

export const ISSUER = "https://kc.example.test/realms/td";
export const AUDIENCE = "kcb-agents";
export const ROLE = "arn:aws:iam::111122223333:role/billing-reader";
export const ROLE_WRITER = "arn:aws:iam::111122223333:role/billing-writer";
export const ROLE_REPORTS = "arn:aws:iam::444455556666:role/reports";
export const TENANT = "0b1f4a1e-8f6e-4c8a-9b3b-1f2e3d4c5b6a";
export const AZ_CLIENT = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
export const STORAGE = "https://storage.azure.com/.default";
export const VAULT = "https://vault.azure.net/.default";
export const NOW = Date.parse("2026-03-01T12:00:00Z");

export const SESSION_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::billing/reports/*" }],
};

export function trustDomainInput(): Record<string, unknown> {
  return {
    version: 1,
    realm: "td",
    issuer: ISSUER,
    clusters: [{ name: "eu", adminUrl: "https://kc-eu.internal:8443", auth: { username: "admin", password: { env: "KC_PASSWORD" } } }],
    signingKeys: [{ name: "main", certificate: { file: "unused.crt" }, keystore: { file: "main.p12", passwordVault: "main-keystore" }, status: "active" }],
    workloads: [
      {
        name: "billing",
        subject: "wl-billing",
        authentication: { clientSecret: { env: "BILLING_SECRET" } },
        aws: { roles: [{ arn: ROLE, maxSessionDuration: 3600 }, { arn: ROLE_WRITER }] },
        azure: { identities: [{ name: "storage", tenantId: TENANT, clientId: AZ_CLIENT, scopes: [STORAGE, VAULT] }] },
      },
      {
        name: "reports",
        subject: "wl-reports",
        authentication: { clientSecret: { env: "REPORTS_SECRET" } },
        aws: { roles: [{ arn: ROLE_REPORTS, maxSessionDuration: 7200 }] },
      },
    ],
    agents: [
      {
        name: "copilot",
        match: { clientId: "agent-copilot" },
        actFor: ["billing"],
        targets: [
          { aws: { role: ROLE, maxDuration: 1800, sessionPolicy: SESSION_POLICY } },
          { azure: { identity: "storage", scopes: [STORAGE] } },
        ],
      },
      {
        name: "auditor",
        match: { clientId: "agent-auditor", claims: { team: "sec" } },
        actFor: ["*"],
        targets: [{ aws: { role: ROLE_REPORTS } }],
      },
    ],
  };
}

export function policyFrom(input: Record<string, unknown> = trustDomainInput()): CompiledPolicy {
  const result = compilePolicy(TrustDomain.parse(input), "rev-test");
  if (!result.ok) throw new Error(result.issues.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return result.policy;
}

export interface Keys {
  rsa: KeyObject;
  rsaPublic: KeyObject;
  foreign: KeyObject;
  jwks: ReturnType<typeof createLocalJWKSet>;
  publicJwk: JWK;
}

export async function makeKeys(): Promise<Keys> {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const foreign = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const publicJwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  return { rsa: privateKey, rsaPublic: publicKey, foreign, jwks: createLocalJWKSet({ keys: [publicJwk] }), publicJwk };
}

const b64 = (value: unknown): string => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** Signs any header and payload, even ones jose would refuse to produce (RS256 or HS256 only). */
export function signRaw(header: Record<string, unknown>, payload: unknown, key: KeyObject | string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  if (typeof key === "string") return `${input}.${createHmac("sha256", key).update(input).digest("base64url")}`;
  return `${input}.${createSign("RSA-SHA256").update(input).sign(key).toString("base64url")}`;
}

let jtiCounter = 0;

export function claims(overrides: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(NOW / 1000) - 10;
  return { iss: ISSUER, aud: AUDIENCE, iat, exp: iat + 300, jti: `jti-${++jtiCounter}`, ...overrides };
}

export function subjectToken(keys: Keys, overrides: JWTPayload = {}): string {
  return signRaw({ alg: "RS256", typ: "JWT", kid: "k1" }, claims({ sub: "wl-billing", azp: "billing", ...overrides }), keys.rsa);
}

export function actorToken(keys: Keys, overrides: JWTPayload = {}): string {
  return signRaw({ alg: "RS256", typ: "JWT", kid: "k1" }, claims({ sub: "sa-copilot-uuid", azp: "agent-copilot", ...overrides }), keys.rsa);
}

export const fixedClock = (at = NOW): Clock & { advance(ms: number): void } => {
  let now = at;
  return { now: () => now, advance: (ms) => void (now += ms) };
};

export function form(params: Record<string, string | undefined>): string {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.append(k, v);
  return body.toString();
}

export function exchangeForm(keys: Keys, overrides: Record<string, string | undefined> = {}): string {
  return form({
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token: subjectToken(keys),
    subject_token_type: JWT_TOKEN_TYPE,
    actor_token: actorToken(keys),
    actor_token_type: JWT_TOKEN_TYPE,
    resource: ROLE,
    ...overrides,
  });
}

export interface Recorded {
  audit: AuditEvent[];
  assumeRole: AssumeRoleRequest[];
  azureToken: EntraTokenRequest[];
  delegation: Array<{ agent: string; workload: string; cloud: "aws" | "azure" }>;
}

export const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
export const AWS_SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE-session-token";
export const AZURE_ACCESS_TOKEN = "eyJ0eXAiOiJKV1QifQ.azure-access-token.sig";

/** Deps with fake clouds and Keycloak that record every call; override any port. */
export function fakeDeps(keys: Keys, overrides: Partial<TokenExchangeDeps> = {}): { deps: TokenExchangeDeps; recorded: Recorded; clock: ReturnType<typeof fixedClock> } {
  const clock = fixedClock();
  const recorded: Recorded = { audit: [], assumeRole: [], azureToken: [], delegation: [] };
  const policy = policyFrom();
  const deps: TokenExchangeDeps = {
    verifier: { issuer: ISSUER, audience: AUDIENCE, keys: keys.jwks },
    policy: { current: () => policy },
    clock,
    audit: { emit: (e) => recorded.audit.push(e) },
    rateLimiter: tokenBucketLimiter({ burst: 100, perSecond: 10 }, clock),
    replay: memoryReplayCache({}, clock),
    requestId: () => `req-${recorded.audit.length + 1}`,
    delegation: {
      token(request) {
        recorded.delegation.push(request);
        const subject = request.workload === "billing" ? "wl-billing" : "wl-reports";
        return Promise.resolve(
          signRaw({ alg: "RS256", kid: "k1" }, { ...claims({ sub: subject, aud: "sts.amazonaws.com" }), [AWS_SOURCE_IDENTITY_CLAIM]: agentSessionName(request.agent, request.workload) }, keys.rsa),
        );
      },
    },
    minter: {
      assumeRole(request) {
        recorded.assumeRole.push(request);
        return Promise.resolve({
          accessKeyId: "ASIAEXAMPLEKEYID0001",
          secretAccessKey: AWS_SECRET,
          sessionToken: AWS_SESSION_TOKEN,
          expiration: new Date(clock.now() + request.durationSeconds * 1000),
          accountId: "111122223333",
          assumedRoleArn: `arn:aws:sts::111122223333:assumed-role/billing-reader/${request.sessionName}`,
          sourceIdentity: request.sessionName,
        });
      },
      azureToken(request) {
        recorded.azureToken.push(request);
        return Promise.resolve({ accessToken: AZURE_ACCESS_TOKEN, expiresOn: new Date(clock.now() + 3599_000), resource: "https://storage.azure.com", clientId: request.clientId, tenantId: request.tenantId });
      },
    },
    ...overrides,
  };
  return { deps, recorded, clock };
}
