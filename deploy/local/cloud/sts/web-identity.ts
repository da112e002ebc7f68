/**
 * Web-identity token validation as AWS STS performs it for AssumeRoleWithWebIdentity (STS API
 * reference, `WebIdentityToken`; IAM User Guide, "OIDC federation" and "Create an OIDC identity
 * provider"), in this order:
 *   1. a compact JWS whose header `alg` is RS/ES 256/384/512 (so `none` and HS* never reach a key);
 *   2. `iss` names an IAM OIDC provider of the role's account ("No OpenIDConnect provider found…");
 *   3. the issuer's discovery document and JWKS over HTTPS — unreachable is IDPCommunicationError,
 *      no key for the `kid` (after one refetch) is "Couldn't retrieve verification key…";
 *   4. the signature;
 *   5. `aud` (string or array) contains one of the provider's ClientIDList ("Incorrect token audience");
 *   6. `exp`, `nbf`, `iat` are integers; `exp` in the future (ExpiredTokenException), `nbf` not after now;
 *   7. a non-empty `sub` (IDPRejectedClaim otherwise).
 * Everything but fetching keys is pure; keys come from the injected `IssuerKeys`.
 */
import type { IssuerKeys } from "../common/issuer-keys.ts";
import { IssuerKeysError } from "../common/issuer-keys.ts";
import { ASYMMETRIC_ALGS, candidateKeys, decodeJwt, isIntegerDate, signatureValid } from "../common/jwt.ts";
import { StsError } from "./errors.ts";
import type { Provider } from "./trust-store.ts";

export interface ValidatedWebIdentity {
  provider: Provider;
  subject: string;
  /** The `aud` value found in the provider's client-id list. */
  audience: string;
  payload: Record<string, unknown>;
}

export interface WebIdentityDeps {
  /** The provider of the role's account whose URL equals `iss`. */
  findProvider: (issuer: string) => Provider | undefined;
  keys: IssuerKeys;
  /** Seconds since the epoch (integer). */
  nowSeconds: number;
  /** Allowed clock difference for `exp` / `nbf`, in seconds. Default 0. */
  clockToleranceSec?: number;
}

const ALGS: readonly string[] = ASYMMETRIC_ALGS;

export async function validateWebIdentityToken(token: string, deps: WebIdentityDeps): Promise<ValidatedWebIdentity> {
  const decoded = decodeJwt(token);
  if (!decoded) throw new StsError("InvalidIdentityToken", "The ID token provided is not a valid JWT");
  const { header, payload } = decoded;
  const alg = header.alg;
  if (typeof alg !== "string" || !ALGS.includes(alg)) {
    throw new StsError(
      "InvalidIdentityToken",
      `Unsupported token signing algorithm: tokens must be signed with RS256, RS384, RS512, ES256, ES384 or ES512`,
    );
  }
  if (header.crit !== undefined) throw new StsError("InvalidIdentityToken", "Unsupported critical header parameters in the token");
  const kid = header.kid;
  if (kid !== undefined && typeof kid !== "string") throw new StsError("InvalidIdentityToken", "The token kid header is not a string");

  const iss = payload.iss;
  if (typeof iss !== "string") throw new StsError("InvalidIdentityToken", "The token has no iss claim");
  const provider = deps.findProvider(iss);
  if (!provider) throw new StsError("InvalidIdentityToken", `No OpenIDConnect provider found in your account for ${iss}`);

  const verified = await verifyWithIssuerKeys(token, iss, alg, kid, deps.keys);
  if (!verified) throw new StsError("InvalidIdentityToken", "The token signature could not be verified");

  const auds =
    typeof payload.aud === "string"
      ? [payload.aud]
      : Array.isArray(payload.aud)
        ? payload.aud.filter((a): a is string => typeof a === "string")
        : [];
  const audience = auds.find((a) => provider.clientIds.includes(a));
  if (audience === undefined) throw new StsError("InvalidIdentityToken", "Incorrect token audience");

  const tolerance = deps.clockToleranceSec ?? 0;
  for (const claim of ["exp", "nbf", "iat"] as const) {
    if (payload[claim] !== undefined && !isIntegerDate(payload[claim])) {
      throw new StsError("InvalidIdentityToken", `The token ${claim} claim must be an integer or long integer timestamp`);
    }
  }
  if (payload.exp === undefined) throw new StsError("InvalidIdentityToken", "The token has no exp claim");
  const exp = payload.exp as number;
  if (exp + tolerance <= deps.nowSeconds) {
    throw new StsError(
      "ExpiredTokenException",
      `Token expired: current date/time ${deps.nowSeconds} must be before the expiration date/time ${exp}`,
    );
  }
  if (typeof payload.nbf === "number" && payload.nbf - tolerance > deps.nowSeconds) {
    throw new StsError(
      "InvalidIdentityToken",
      `Token is not yet valid: current date/time ${deps.nowSeconds} is before the not-before date/time ${payload.nbf}`,
    );
  }

  const sub = payload.sub;
  if (typeof sub !== "string" || sub.length === 0) throw new StsError("IDPRejectedClaim", "The token has no subject (sub) claim");
  return { provider, subject: sub, audience, payload };
}

async function verifyWithIssuerKeys(token: string, iss: string, alg: string, kid: string | undefined, keys: IssuerKeys): Promise<boolean> {
  const fetchKeys = async (forceRefresh: boolean) => {
    try {
      return await keys.get(iss, { forceRefresh });
    } catch (error) {
      if (error instanceof IssuerKeysError && error.code === "ISSUER_UNREACHABLE") {
        throw new StsError("IDPCommunicationError", "The identity provider could not be reached to verify the token; retry later");
      }
      throw new StsError(
        "InvalidIdentityToken",
        "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
      );
    }
  };
  let candidates = candidateKeys(await fetchKeys(false), alg, kid);
  if (candidates.length === 0) candidates = candidateKeys(await fetchKeys(true), alg, kid);
  if (candidates.length === 0) {
    throw new StsError(
      "InvalidIdentityToken",
      "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements",
    );
  }
  for (const jwk of candidates) if (await signatureValid(token, jwk, alg)) return true;
  return false;
}
