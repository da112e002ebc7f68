/**
 * What must hold between a verified subject token and a verified actor token, beyond what each
 * passes alone. Pure.
 *
 * - The subject token's `aud` is exactly the agents' audience: a token that also names a cloud
 *   (`sts.amazonaws.com`, `api://AzureADTokenExchange`) would let the agent holding it go to that
 *   cloud directly, past the session policy and the source identity.
 * - Actor and subject are different principals and different tokens (`sub`, `jti`): a workload
 *   cannot act for itself through the endpoint, and one token cannot play both parts.
 */
import type { JWTPayload } from "jose";

export type PairCheck = { ok: true } | { ok: false; code: "SUBJECT_TOKEN_INVALID" | "ACTOR_TOKEN_INVALID"; detail: string };

/** `aud` is exactly `audience`: the string itself, or a one-element array of it (RFC 7519 §4.1.3 allows both forms). */
export function audienceIsExactly(aud: JWTPayload["aud"], audience: string): boolean {
  return aud === audience || (Array.isArray(aud) && aud.length === 1 && aud[0] === audience);
}

/** @example const pair = checkPair(subject, actor, "kcb-agents"); if (!pair.ok) throw new AgentsError(pair.code, pair.detail); */
export function checkPair(subject: JWTPayload, actor: JWTPayload, audience: string): PairCheck {
  if (!audienceIsExactly(subject.aud, audience))
    return { ok: false, code: "SUBJECT_TOKEN_INVALID", detail: `subject token: aud is not exactly ${audience}` };
  if (subject.sub === actor.sub) return { ok: false, code: "ACTOR_TOKEN_INVALID", detail: "actor token: same sub as the subject token" };
  if (subject.jti !== undefined && subject.jti === actor.jti)
    return { ok: false, code: "ACTOR_TOKEN_INVALID", detail: "actor token: same jti as the subject token" };
  return { ok: true };
}
