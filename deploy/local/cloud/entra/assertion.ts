/**
 * Validation of a federated `client_assertion` as Entra ID performs it for
 * `grant_type=client_credentials` with `client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer`:
 *   1. a compact JWS with string `iss` and `sub` (else 50027);
 *   2. a federated identity credential of the application matching iss / aud / sub (fic.ts);
 *   3. an asymmetric `alg` (RS/ES 256/384/512) and a `kid` (Entra looks the key up by identifier);
 *   4. the issuer's discovery document and JWKS (unreachable → 50166), the `kid` among its keys
 *      after one refetch (else 7000272), the signature (else 700027);
 *   5. `exp` present and in the future, `nbf` (when present) not after now (else 700024).
 */
import type { AzureFederatedCredential } from "../../../../admin-scripts/trust/artifacts.ts";
import type { IssuerKeys } from "../common/issuer-keys.ts";
import { IssuerKeysError } from "../common/issuer-keys.ts";
import { ASYMMETRIC_ALGS, candidateKeys, decodeJwt, signatureValid } from "../common/jwt.ts";
import { entraErrors } from "./errors.ts";
import { matchFederatedCredential } from "./fic.ts";

export interface ValidatedAssertion {
  fic: AzureFederatedCredential;
  iss: string;
  sub: string;
}

export interface AssertionDeps {
  /** The FICs of the application named by `client_id` in the tenant. */
  fics: readonly AzureFederatedCredential[];
  keys: IssuerKeys;
  nowSeconds: number;
  /** Allowed clock difference for `exp` / `nbf`, in seconds. Default 0. */
  clockToleranceSec?: number;
}

const ALGS: readonly string[] = ASYMMETRIC_ALGS;

export async function validateClientAssertion(assertion: string, deps: AssertionDeps): Promise<ValidatedAssertion> {
  const decoded = decodeJwt(assertion);
  if (!decoded) throw entraErrors.malformed();
  const { header, payload } = decoded;
  const { iss, sub } = payload;
  if (typeof iss !== "string" || typeof sub !== "string") throw entraErrors.malformed();
  const aud =
    typeof payload.aud === "string"
      ? [payload.aud]
      : Array.isArray(payload.aud)
        ? payload.aud.filter((a): a is string => typeof a === "string")
        : [];

  const match = matchFederatedCredential(deps.fics, { iss, sub, aud });
  if (!match.ok) throw match.error;

  const alg = header.alg;
  if (typeof alg !== "string" || !ALGS.includes(alg) || header.crit !== undefined) throw entraErrors.signature();
  const kid = header.kid;
  if (typeof kid !== "string" || kid === "") throw entraErrors.keyNotFound(undefined, iss);

  const fetchKeys = async (forceRefresh: boolean) => {
    try {
      return await deps.keys.get(iss, { forceRefresh });
    } catch (error) {
      if (error instanceof IssuerKeysError) throw entraErrors.issuerUnreachable(iss);
      throw error;
    }
  };
  let candidates = candidateKeys(await fetchKeys(false), alg, kid);
  if (candidates.length === 0) candidates = candidateKeys(await fetchKeys(true), alg, kid);
  if (candidates.length === 0) throw entraErrors.keyNotFound(kid, iss);
  let valid = false;
  for (const jwk of candidates) if (!valid && (await signatureValid(assertion, jwk, alg))) valid = true;
  if (!valid) throw entraErrors.signature();

  const tolerance = deps.clockToleranceSec ?? 0;
  const exp = typeof payload.exp === "number" ? payload.exp : undefined;
  const nbf = typeof payload.nbf === "number" ? payload.nbf : undefined;
  const now = deps.nowSeconds;
  if (exp === undefined || exp + tolerance <= now || (nbf !== undefined && nbf - tolerance > now)) {
    throw entraErrors.timeRange(new Date(now * 1000), new Date((nbf ?? 0) * 1000), new Date((exp ?? 0) * 1000));
  }
  return { fic: match.fic, iss, sub };
}
