/**
 * The workload's Keycloak token, per audience: discovery of the issuer (once, retried after a
 * failure), then a client-credentials request with `scope=kcb-aws` or `scope=kcb-azure`, then the
 * strict checks of {@link checkTokenResponse}. Uncached: the refreshing cache decorates it.
 *
 * At most one token request per audience is open: a caller whose `timeoutMs` runs out gets
 * `KEYCLOAK_UNAVAILABLE`, but the request stays open (up to `answerLimitMs`) and the next fetch of
 * that audience waits for its answer rather than asking Keycloak again (./open-grants.ts: a slow
 * grant may still be issued, and a second request would only add to a slow server's work).
 *
 * Two plain requests over node:https (broker/exchange/post-form.ts), not an OAuth library on
 * Node's fetch: the sidecar never loads undici for them (see the module's note).
 * Discovery: OpenID Connect Discovery 1.0 §4 (the document's `issuer` must equal the issuer the
 * request was made for, §4.3). Token request: RFC 6749 §4.4; errors: RFC 6749 §5.2.
 */
import { systemClock, type Clock } from "../clock.ts";
import { BrokerError } from "../errors.ts";
import { getText, postForm, type FormAnswer } from "../exchange/post-form.ts";
import { checkTokenResponse } from "./check-token.ts";
import type { ClientAuth } from "./client-auth.ts";
import { lateTokenUsable, OpenGrants } from "./open-grants.ts";
import { AUDIENCES, type Audience, type WorkloadToken, type WorkloadTokenSource } from "./token-source.ts";

/** The two requests the token source makes; node:http(s) by default, replaced in tests. */
export interface KeycloakHttp {
  get(url: string, options: { timeoutMs: number }): Promise<FormAnswer>;
  postForm(url: string, form: URLSearchParams, options: { timeoutMs: number; headers: Record<string, string> }): Promise<FormAnswer>;
}

export const nodeKeycloakHttp: KeycloakHttp = { get: getText, postForm };

export interface KeycloakTokenSourceOptions {
  /** The realm's issuer; its `/.well-known/openid-configuration` gives the token endpoint. */
  issuer: string;
  clientId: string;
  auth: ClientAuth;
  /** How long a fetch waits for Keycloak's answer (discovery, then the token request). */
  timeoutMs: number;
  /** How long a token request stays open for a later fetch to claim its answer; default {@link ANSWER_LIMIT_MS} (at least `timeoutMs`). */
  answerLimitMs?: number;
  clock?: Clock;
  http?: KeycloakHttp;
}

/**
 * How long a token request stays open by default: an answer after this long comes from a server
 * in trouble, and load balancers commonly close idle requests after 60 s.
 */
export const ANSWER_LIMIT_MS = 60_000;

/** Keycloak could not answer (network, timeout, 5xx, 429): retry later. */
function unavailable(message: string, cause?: unknown): BrokerError {
  return new BrokerError("KEYCLOAK_UNAVAILABLE", message, cause === undefined ? undefined : { cause });
}

function rejected(message: string): BrokerError {
  return new BrokerError("KEYCLOAK_REJECTED", message);
}

function json(answer: FormAnswer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(answer.body);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A non-200 answer as a broker error: `KEYCLOAK_UNAVAILABLE` when Keycloak could not decide (5xx,
 * 429, `temporarily_unavailable`, `server_error`), `KEYCLOAK_REJECTED` when it did (an OAuth error
 * such as `invalid_client`, `unauthorized_client`, `invalid_scope`; a 404 for an unknown realm).
 */
export function answerError(answer: FormAnswer, what: string): BrokerError {
  const error = json(answer)?.error;
  const code = typeof error === "string" ? error.slice(0, 64) : undefined;
  const busy = answer.status >= 500 || answer.status === 429 || code === "temporarily_unavailable" || code === "server_error";
  const message = `Keycloak refused the ${what}: ${code !== undefined ? `${code} ` : ""}(HTTP ${answer.status})`;
  return busy ? unavailable(message) : rejected(message);
}

/** Anything thrown on the way (a refused connection, a timeout) is Keycloak being unreachable. */
function transportError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const name = (error as Error | undefined)?.name ?? "Error";
  return unavailable(`Keycloak could not be reached: ${code ?? name}`, error);
}

/** The token endpoint from the issuer's discovery document, after checking the document is the issuer's. */
export function tokenEndpointOf(answer: FormAnswer, issuer: string): string {
  if (answer.status !== 200) throw answerError(answer, "discovery request");
  const document = json(answer);
  if (!document) throw unavailable("Keycloak's discovery document is not JSON");
  if (document.issuer !== issuer) {
    throw rejected("the issuer's discovery document names another issuer (check the configured issuer and Keycloak's hostname)");
  }
  const endpoint = document.token_endpoint;
  if (typeof endpoint !== "string" || !URL.canParse(endpoint) || new URL(endpoint).protocol !== "https:") {
    throw rejected("the issuer's discovery document has no https token_endpoint");
  }
  return endpoint;
}

export function createKeycloakTokenSource(options: KeycloakTokenSourceOptions): WorkloadTokenSource {
  const clock = options.clock ?? systemClock;
  const http = options.http ?? nodeKeycloakHttp;
  const { issuer, clientId, timeoutMs } = options;
  let tokenEndpoint: Promise<string> | undefined;

  function discover(): Promise<string> {
    tokenEndpoint ??= http
      .get(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`, { timeoutMs })
      .then(
        (answer) => tokenEndpointOf(answer, issuer),
        (error: unknown) => Promise.reject(transportError(error)),
      )
      .catch((error: unknown) => {
        tokenEndpoint = undefined;
        throw error;
      });
    return tokenEndpoint;
  }

  const answerLimitMs = Math.max(timeoutMs, options.answerLimitMs ?? ANSWER_LIMIT_MS);
  const open = new OpenGrants<WorkloadToken>({
    waitMs: timeoutMs,
    waitedTooLong: (ms) =>
      unavailable(`Keycloak has not answered the token request within ${ms} ms (it stays open: the next attempt waits for its answer)`),
    usable: lateTokenUsable,
    now: () => clock.now(),
  });

  async function requestToken(audience: Audience): Promise<WorkloadToken> {
    const { scope, aud } = AUDIENCES[audience];
    const endpoint = await discover();
    const body = new URLSearchParams({ grant_type: "client_credentials", scope });
    const headers: Record<string, string> = { accept: "application/json" };
    await options.auth({ issuer, tokenEndpoint: endpoint, clientId, body, headers });
    let answer: FormAnswer;
    try {
      answer = await http.postForm(endpoint, body, { timeoutMs: answerLimitMs, headers });
    } catch (error) {
      throw transportError(error);
    }
    if (answer.status !== 200) throw answerError(answer, "token request");
    const response = json(answer);
    if (!response) throw unavailable("Keycloak's token response is not JSON");
    return checkTokenResponse(response, { issuer, audience: aud, now: clock.now() });
  }

  return {
    fetch: (audience) => open.get(audience, () => requestToken(audience)),
  };
}
