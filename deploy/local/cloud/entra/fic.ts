/**
 * Federated identity credential matching as Entra ID applies it (Microsoft Entra Workload ID,
 * "Workload identity federation" and "Important considerations and restrictions"): the assertion's
 * `iss` and `sub` must equal a FIC's issuer and subject exactly — case-sensitive, no normalisation, a
 * trailing slash matters, no wildcards for generic OIDC issuers — and one of its `aud` values must be
 * in that same FIC's audiences. The most specific failure is reported: issuer (700211), then
 * audience (700212), then subject (700213); when each matches some FIC but no single FIC matches all
 * three, the generic 70021.
 */
import type { AzureFederatedCredential } from "../../../../admin-scripts/trust/artifacts.ts";
import { entraErrors, type EntraError } from "./errors.ts";

export interface AssertionIdentity {
  iss: string;
  sub: string;
  /** `aud` of the assertion, as a list. */
  aud: string[];
}

export type FicMatch = { ok: true; fic: AzureFederatedCredential } | { ok: false; error: EntraError };

/** Matches against the FICs of one application (already filtered by tenant and client id). Pure. */
export function matchFederatedCredential(fics: readonly AzureFederatedCredential[], a: AssertionIdentity): FicMatch {
  const byIssuer = fics.filter((f) => f.issuer === a.iss);
  if (byIssuer.length === 0) return { ok: false, error: entraErrors.issuer(a.iss) };
  const byAudience = byIssuer.filter((f) => f.audiences.some((x) => a.aud.includes(x)));
  if (byAudience.length === 0) return { ok: false, error: entraErrors.audience(a.aud.join(",")) };
  const fic = byAudience.find((f) => f.subject === a.sub);
  if (fic) return { ok: true, fic };
  if (byIssuer.some((f) => f.subject === a.sub)) return { ok: false, error: entraErrors.noMatch(a.iss, a.sub, a.aud.join(",")) };
  return { ok: false, error: entraErrors.subject(a.sub) };
}
