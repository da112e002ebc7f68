/**
 * What the token-exchange endpoint needs from the outside world, as small interfaces. The endpoint
 * itself (`app.ts`, `exchange.ts`) is pure logic over these; `broker/cli/agents.ts` wires the real adapters.
 */
import type { JWTVerifyGetKey } from "jose";
import type { AssumeRoleRequest, AssumedRole } from "../exchange/aws-sts.ts";
import type { EntraToken, EntraTokenRequest } from "../exchange/azure-entra.ts";
import type { AuditEvent } from "./audit.ts";
import type { CompiledPolicy } from "./policy/types.ts";

/** JWS algorithms the verifier may accept. Symmetric algorithms and `none` are not in the type. */
export type AsymmetricAlg = "RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512" | "ES256" | "ES384" | "ES512";

/** How subject and actor tokens are verified. Built once at start-up. */
export interface TokenVerifierConfig {
  /** The one trusted issuer (the trust domain's `iss`); any other `iss` is refused before any key lookup. */
  issuer: string;
  /** `aud` both tokens must carry (`kcb-agents`): a token minted for AWS, Entra or anything else is refused. */
  audience: string;
  /**
   * Key lookup for the pinned issuer's JWKS, e.g. {@link remoteKeys} (`createRemoteJWKSet`, bounded
   * timeout and cooldown) in production or jose's `createLocalJWKSet` in tests. It is only called for
   * tokens whose header and `iss` already passed the offline checks, and must give a CryptoKey
   * (what jose's JWKS sets give) or a KeyObject: the signature is verified with node:crypto.
   */
  keys: JWTVerifyGetKey;
  /** Default RS256/384/512 and ES256/384/512, the set AWS STS accepts. */
  algorithms?: readonly AsymmetricAlg[];
  /** Leeway for `exp`/`nbf`/`iat`, default 30 s. */
  clockToleranceSeconds?: number;
  /**
   * Oldest `iat` accepted, in seconds, default {@link DEFAULT_MAX_TOKEN_AGE_SECONDS}: a token lifted
   * from a log or a crash dump stops working this long after it was minted, whatever its `exp`.
   */
  maxTokenAgeSeconds?: number;
}

/** 15 minutes: a workload hands an agent a fresh subject token; an actor token is used once. */
export const DEFAULT_MAX_TOKEN_AGE_SECONDS = 900;

/** The compiled `agents` policy currently in force; `undefined` until a first valid file loaded. */
export interface PolicyStore {
  current(): CompiledPolicy | undefined;
}

/**
 * Mints cloud credentials: `minter.ts`, over the broker core's exchangers. Failures reject
 * with a `BrokerError` (`AWS_RETRYABLE`, `AWS_REJECTED`, `AZURE_RETRYABLE`, `AZURE_REJECTED`);
 * anything else is treated as an internal error.
 */
export interface CloudMinter {
  assumeRole(request: AssumeRoleRequest): Promise<AssumedRole>;
  azureToken(request: EntraTokenRequest): Promise<EntraToken>;
}

/**
 * Tokens of the trust domain for "agent acting for workload", for one cloud: `sub` = the workload's
 * subject, `aud` = `sts.amazonaws.com` or `api://AzureADTokenExchange`, and the chain in
 * `https://aws.amazon.com/source_identity`. Implemented by `keycloak-delegation.ts`.
 * Rejects with an `AgentsError` (`DELEGATION_UNAVAILABLE` / `DELEGATION_MISCONFIGURED`).
 */
export interface DelegatedTokenSource {
  token(request: { agent: string; workload: string; cloud: "aws" | "azure" }): Promise<string>;
}

/** Receives exactly one event per exchange, allowed or denied, and may keep it: not changed after `emit`. Must not throw. */
export interface AuditSink {
  emit(event: AuditEvent): void;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** Per-agent admission. */
export interface RateLimiter {
  take(key: string): RateDecision;
}

/**
 * Remembers actor-token ids until the token expires. `"full"` when it cannot remember one more
 * without forgetting an unexpired one (the caller refuses the request: fail closed).
 */
export interface ReplayCache {
  remember(key: string, expiresAtMs: number): "fresh" | "replayed" | "full";
}
