/**
 * One token exchange, as a straight line: read the form, check it, verify the subject token, verify
 * the actor token, admit the agent (rate limit), burn the actor token's `jti`, ask the policy, get the
 * delegated Keycloak token, mint the cloud credentials, answer — and emit exactly one audit event
 * whatever happened. No HTTP framework here: `app.ts` adapts it to Hono and to node:http.
 */
import { randomUUID } from "node:crypto";
import { decodeJwt } from "jose";
import { AWS_SOURCE_IDENTITY_CLAIM, agentSessionName } from "../../realm-config/model/conventions.ts";
import { redact } from "../log.ts";
import { tokenFingerprint, type AuditEvent } from "./audit.ts";
import { encodeAwsCredentialsToken } from "./aws-credentials-token.ts";
import { assertForm } from "./body.ts";
import { AgentsError, BrokerError, ERRORS, type AgentsErrorCode } from "../errors.ts";
import { actorClientId, evaluate, type AwsGrant, type AzureGrant } from "./policy/evaluate.ts";
import type { Clock } from "../clock.ts";
import type { AuditSink, CloudMinter, DelegatedTokenSource, PolicyStore, RateLimiter, ReplayCache, TokenVerifierConfig } from "./ports.ts";
import { ACCESS_TOKEN_TYPE, AWS_CREDENTIALS_TOKEN_TYPE, DEFAULT_LIMITS, NOT_APPLICABLE_TOKEN_TYPE, type Limits } from "./protocol.ts";
import { parseExchangeRequest } from "./request.ts";
import { describeTarget } from "./target.ts";
import { checkPair } from "./verify/pair.ts";
import { createTokenVerifier, type VerifiedToken } from "./verify/verifier.ts";

export interface TokenExchangeDeps {
  verifier: TokenVerifierConfig;
  policy: PolicyStore;
  minter: CloudMinter;
  delegation: DelegatedTokenSource;
  clock: Clock;
  audit: AuditSink;
  rateLimiter: RateLimiter;
  replay: ReplayCache;
  limits?: Partial<Limits>;
  /**
   * The Keycloak client of the workload this sidecar serves. Its delegation key authenticates only
   * that workload's delegation clients, so a subject token of any other client is refused here.
   */
  servedClientId?: string;
  /** Default `crypto.randomUUID`. */
  requestId?: () => string;
}

export interface ExchangeInput {
  contentType: string | undefined;
  /** The request body as UTF-8 text, read up to `maxBytes` (see body.ts): the HTTP adapter's reader. */
  readBody(maxBytes: number): Promise<string>;
}

export interface ExchangeResult {
  status: number;
  body: Record<string, string | number>;
  headers: Record<string, string>;
}

export type Exchange = (input: ExchangeInput) => Promise<ExchangeResult>;

type Issued = { body: Record<string, string | number>; issued: NonNullable<AuditEvent["issued"]> };

function upstreamCode(error: unknown): AgentsErrorCode {
  if (error instanceof AgentsError) return error.code;
  if (error instanceof BrokerError) return ERRORS[error.code].retryable ? "UPSTREAM_RETRYABLE" : "UPSTREAM_REJECTED";
  return "INTERNAL";
}

function describeError(error: unknown): string {
  if (error instanceof AgentsError) return error.message;
  if (error instanceof BrokerError) return `${error.code}: ${String(redact(error.message))}`;
  return error instanceof Error ? `${error.name}: ${String(redact(error.message))}` : "non-error thrown";
}

/** Builds the exchange once: validates the configuration (TypeError on bad input) and compiles the verifier. */
export function createExchange(deps: TokenExchangeDeps): Exchange {
  const limits: Limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const verifier = createTokenVerifier(deps.verifier, deps.clock);
  const toleranceMs = (deps.verifier.clockToleranceSeconds ?? 30) * 1000;
  const newRequestId = deps.requestId ?? randomUUID;

  async function verified(token: string, which: "subject" | "actor"): Promise<VerifiedToken> {
    const result = await verifier.verify(token, { requireJti: which === "actor" });
    if (result.ok) return result.token;
    const code =
      result.reason === "KEYS_UNAVAILABLE" ? "KEYS_UNAVAILABLE" : which === "subject" ? "SUBJECT_TOKEN_INVALID" : "ACTOR_TOKEN_INVALID";
    throw new AgentsError(code, `${which} token: ${result.reason}: ${result.detail}`);
  }

  // The delegated token is cached by its source and reused by many exchanges: decoded once per token.
  const decodedDelegated = new Map<string, { token: string; claims: Record<string, unknown> }>();

  /** The delegated Keycloak token must be for the workload and, for AWS, carry the chain as SourceIdentity. */
  async function delegatedToken(
    agent: string,
    workload: string,
    subject: string,
    cloud: "aws" | "azure",
    sourceIdentity: string,
  ): Promise<string> {
    const token = await deps.delegation.token({ agent, workload, cloud });
    const key = `${agent} ${workload} ${cloud}`;
    let decoded = decodedDelegated.get(key);
    if (decoded?.token !== token) {
      try {
        decoded = { token, claims: decodeJwt(token) };
      } catch (cause) {
        throw new AgentsError("DELEGATION_MISCONFIGURED", "delegated token is not a JWT", { cause });
      }
      decodedDelegated.set(key, decoded);
    }
    const claims = decoded.claims;
    if (claims.sub !== subject)
      throw new AgentsError("DELEGATION_MISCONFIGURED", `delegated token for ${agent}@${workload} has another sub`);
    if (cloud === "aws" && claims[AWS_SOURCE_IDENTITY_CLAIM] !== sourceIdentity) {
      throw new AgentsError(
        "DELEGATION_MISCONFIGURED",
        `delegated token for ${agent}@${workload} lacks ${AWS_SOURCE_IDENTITY_CLAIM}=${sourceIdentity}`,
      );
    }
    return token;
  }

  async function issueAws(grant: AwsGrant, agent: string, workload: string, subject: string): Promise<Issued> {
    const sessionName = agentSessionName(agent, workload);
    const webIdentityToken = await delegatedToken(agent, workload, subject, "aws", sessionName);
    const credentials = await deps.minter.assumeRole({
      roleArn: grant.roleArn,
      webIdentityToken,
      sessionName,
      durationSeconds: grant.durationSeconds,
      ...(grant.sessionPolicy !== undefined ? { policy: grant.sessionPolicy } : {}),
    });
    if (credentials.sourceIdentity !== undefined && credentials.sourceIdentity !== sessionName) {
      throw new AgentsError("DELEGATION_MISCONFIGURED", "STS reported another SourceIdentity");
    }
    const expiresIn = Math.max(0, Math.floor((credentials.expiration.getTime() - deps.clock.now()) / 1000));
    return {
      body: {
        access_token: encodeAwsCredentialsToken(credentials),
        issued_token_type: AWS_CREDENTIALS_TOKEN_TYPE,
        token_type: NOT_APPLICABLE_TOKEN_TYPE,
        expires_in: expiresIn,
      },
      issued: {
        cloud: "aws",
        expiresAt: credentials.expiration.toISOString(),
        sessionName,
        sourceIdentity: credentials.sourceIdentity ?? sessionName,
        durationSeconds: grant.durationSeconds,
        ...(grant.sessionPolicy !== undefined ? { sessionPolicySha256: tokenFingerprint(grant.sessionPolicy) } : {}),
        accessKeyId: credentials.accessKeyId,
        assumedRoleArn: credentials.assumedRoleArn,
      },
    };
  }

  async function issueAzure(grant: AzureGrant, agent: string, workload: string, subject: string): Promise<Issued> {
    const assertion = await delegatedToken(agent, workload, subject, "azure", agentSessionName(agent, workload));
    const token = await deps.minter.azureToken({ tenantId: grant.tenantId, clientId: grant.clientId, scope: grant.scope, assertion });
    const expiresIn = Math.max(0, Math.floor((token.expiresOn.getTime() - deps.clock.now()) / 1000));
    return {
      body: {
        access_token: token.accessToken,
        issued_token_type: ACCESS_TOKEN_TYPE,
        token_type: "Bearer",
        expires_in: expiresIn,
        scope: grant.scope,
      },
      issued: { cloud: "azure", expiresAt: token.expiresOn.toISOString(), scope: grant.scope },
    };
  }

  return async function exchange(input) {
    const requestId = newRequestId();
    const event: AuditEvent = {
      type: "token_exchange",
      time: new Date(deps.clock.now()).toISOString(),
      requestId,
      outcome: "denied",
      status: 400,
      subject: {},
      actor: {},
    };
    const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache", "X-Request-Id": requestId };
    try {
      // The bounded body is read before anything is refused: a refusal that leaves it unread makes
      // the HTTP adapter drain it (at most 500 ms) and then cut the connection under the client.
      const text = await input.readBody(limits.maxBodyBytes);
      assertForm(input.contentType);
      const request = parseExchangeRequest(text, limits);
      event.target = describeTarget(request.target);
      if (request.scopes.length) event.scopes = request.scopes;
      event.subject.tokenSha256 = tokenFingerprint(request.subjectToken);
      event.actor.tokenSha256 = tokenFingerprint(request.actorToken);

      const policy = deps.policy.current();
      if (!policy) throw new AgentsError("POLICY_UNAVAILABLE", "no policy loaded");
      event.policyRevision = policy.revision;

      const subject = (await verified(request.subjectToken, "subject")).claims;
      Object.assign(event.subject, { iss: subject.iss, sub: subject.sub });
      const actor = (await verified(request.actorToken, "actor")).claims;
      const clientId = actorClientId(actor);
      Object.assign(event.actor, { iss: actor.iss, sub: actor.sub, ...(clientId !== undefined ? { clientId } : {}) });
      const pair = checkPair(subject, actor, deps.verifier.audience);
      if (!pair.ok) throw new AgentsError(pair.code, pair.detail);
      if (deps.servedClientId !== undefined && subject.azp !== deps.servedClientId) {
        throw new AgentsError(
          "SUBJECT_CLIENT_MISMATCH",
          `subject token of another workload's client; this sidecar delegates for ${deps.servedClientId} only`,
        );
      }

      const admission = deps.rateLimiter.take(`${actor.iss} ${actor.sub}`);
      if (!admission.allowed)
        throw new AgentsError("RATE_LIMITED", "agent over its rate", { retryAfterSeconds: admission.retryAfterSeconds });
      const replay = deps.replay.remember(`${actor.iss} ${String(actor.jti)}`, actor.exp * 1000 + toleranceMs);
      if (replay === "replayed") throw new AgentsError("ACTOR_TOKEN_REPLAYED", "actor token jti already used");
      if (replay === "full") throw new AgentsError("REPLAY_CACHE_FULL", "replay cache full");

      const decision = evaluate(policy, { subject, actor, target: request.target, scopes: request.scopes });
      if (decision.workload !== undefined) event.subject.name = decision.workload;
      if (!decision.allow) {
        if (decision.rules) event.actor.name = decision.rules.join(",");
        throw new AgentsError(decision.reason, `policy: ${decision.reason}`);
      }
      event.actor.name = decision.rule;
      event.rule = decision.rule;

      const { body, issued } =
        decision.grant.cloud === "aws"
          ? await issueAws(decision.grant, decision.rule, decision.workload, subject.sub)
          : await issueAzure(decision.grant, decision.rule, decision.workload, subject.sub);
      Object.assign(event, { outcome: "allowed", status: 200, issued });
      return { status: 200, body, headers };
    } catch (error) {
      const code = upstreamCode(error);
      const row = ERRORS[code];
      Object.assign(event, {
        outcome: row.status >= 500 ? "error" : "denied",
        status: row.status,
        reason: code,
        error: row.oauth,
        detail: describeError(error),
      });
      const retryAfter = error instanceof AgentsError ? error.retryAfterSeconds : undefined;
      if (retryAfter !== undefined) headers["Retry-After"] = String(retryAfter);
      else if (row.retryable) headers["Retry-After"] = "5";
      return { status: row.status, body: { error: row.oauth, error_description: row.message }, headers };
    } finally {
      try {
        deps.audit.emit(event);
      } catch {
        // The sink contract is never to throw; a broken one must not change the answer.
      }
    }
  };
}
