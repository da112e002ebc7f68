/**
 * Checks of Keycloak's token response, before the token goes anywhere: the clouds would refuse a
 * token failing them, and with a far less helpful message. Pure.
 */
import { decodeJwt, decodeProtectedHeader } from "jose";
import { BrokerError } from "../errors.ts";
import type { WorkloadToken } from "./token-source.ts";

/** Algorithms STS accepts for web-identity tokens (and Entra for assertions). */
export const ACCEPTED_ALGORITHMS = new Set(["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]);

export interface TokenResponseLike {
  access_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
}

export interface TokenExpectations {
  issuer: string;
  audience: string;
  /** Milliseconds since the epoch. */
  now: number;
}

function invalid(why: string): BrokerError {
  return new BrokerError("KEYCLOAK_INVALID_TOKEN", `Keycloak's token ${why}`);
}

/**
 * The workload token of a client-credentials response, if it is a JWT signed with an accepted
 * algorithm, issued by `issuer`, for exactly `audience`, with integer `exp` in the future and a
 * `sub`. Its expiry is the earlier of `exp` and `expires_in`.
 */
export function checkTokenResponse(response: TokenResponseLike, expected: TokenExpectations): WorkloadToken {
  if (typeof response.token_type !== "string" || response.token_type.toLowerCase() !== "bearer")
    throw invalid("response is not of type Bearer");
  const token = response.access_token;
  if (typeof token !== "string" || token.split(".").length !== 3) throw invalid("is not a signed JWT");
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    claims = decodeJwt(token);
  } catch {
    throw invalid("is not a signed JWT");
  }
  if (typeof header.alg !== "string" || !ACCEPTED_ALGORITHMS.has(header.alg))
    throw invalid(`is signed with ${String(header.alg)}, not one of ${[...ACCEPTED_ALGORITHMS].join(", ")}`);
  if (claims.iss !== expected.issuer) throw invalid(`has iss "${String(claims.iss)}", expected "${expected.issuer}"`);
  const aud = Array.isArray(claims.aud) && claims.aud.length === 1 ? claims.aud[0] : claims.aud;
  if (aud !== expected.audience) {
    throw invalid(
      `has aud ${JSON.stringify(claims.aud)}, expected exactly "${expected.audience}" (is the client scope with its audience mapper assigned to the client?)`,
    );
  }
  if (typeof claims.sub !== "string" || claims.sub.length === 0) throw invalid("has no sub");
  if (!Number.isInteger(claims.exp)) throw invalid("has no integer exp");
  let expiresAt = (claims.exp as number) * 1000;
  if (typeof response.expires_in === "number" && response.expires_in > 0)
    expiresAt = Math.min(expiresAt, expected.now + response.expires_in * 1000);
  if (expiresAt <= expected.now) throw invalid(`expired at ${new Date(expiresAt).toISOString()} (clock skew?)`);
  return { token, expiresAt: new Date(expiresAt) };
}
