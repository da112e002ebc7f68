/**
 * Trust-domain coherence, the pure part: what every cluster publishes and mints must be the same,
 * and must be what the config says. Input is what `keycloak/check.ts` fetched; output is findings.
 */
import {
  AGENTS_AUDIENCE,
  AGENTS_SCOPE,
  AWS_AUDIENCE,
  AWS_SCOPE,
  AWS_SESSION_TAGS_CLAIM,
  AWS_SOURCE_IDENTITY_CLAIM,
  AZURE_AUDIENCE,
  AZURE_SCOPE,
} from "../../realm-config/model/conventions.ts";
import { SESSION_TAGS_MAPPER, SOURCE_IDENTITY_MAPPER, SUB_MAPPER } from "../desired/names.ts";
import type { DesiredClient, DesiredState } from "../desired/types.ts";

export interface Finding {
  type: "drift" | "incoherent";
  /** The cluster it is about; absent when it is about the clusters disagreeing with each other. */
  cluster?: string;
  message: string;
}

/** Per cluster, one observed value (JSON-comparable). */
export type PerCluster<T> = ReadonlyArray<{ cluster: string; value: T }>;

/** Stable JSON: object keys sorted at every level, so equal data gives equal text. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A JWKS with its keys in a fixed order, for comparing key sets regardless of listing order. */
export function canonicalJwks(jwks: { keys?: ReadonlyArray<Record<string, unknown>> }): string {
  const keys = (jwks.keys ?? []).map(canonical).sort();
  return `{"keys":[${keys.join(",")}]}`;
}

/** One finding when the clusters disagree on `what`, naming each distinct value's clusters. */
export function sameEverywhere<T>(what: string, values: PerCluster<T>, show: (v: T) => string = (v) => JSON.stringify(v)): Finding[] {
  const groups = new Map<string, string[]>();
  const shown = new Map<string, string>();
  for (const { cluster, value } of values) {
    const key = canonical(value);
    groups.set(key, [...(groups.get(key) ?? []), cluster]);
    shown.set(key, show(value));
  }
  if (groups.size <= 1) return [];
  const parts = [...groups.entries()].map(([key, clusters]) => `${clusters.join(", ")}: ${shown.get(key)}`);
  return [{ type: "incoherent", message: `${what} differs between clusters (${parts.join(" | ")})` }];
}

/** The claims a workload's token for `scope` must carry on every cluster. */
export interface ExpectedClaims {
  iss: string;
  sub: string;
  aud: string;
  /** The session-tags claim, or undefined when the workload has none. */
  tags: unknown;
  /** The AWS source identity (`agent@workload`) of a delegation client's tokens, else undefined. */
  sourceIdentity?: string;
}

export const SCOPE_AUDIENCE: Record<string, string> = {
  [AWS_SCOPE]: AWS_AUDIENCE,
  [AZURE_SCOPE]: AZURE_AUDIENCE,
  [AGENTS_SCOPE]: AGENTS_AUDIENCE,
};

export function expectedClaims(desired: DesiredState, client: DesiredClient, scope: string): ExpectedClaims {
  const sub = client.mappers.find((m) => m.name === SUB_MAPPER)?.config["claim.value"] ?? "";
  const tagsValue = client.mappers.find((m) => m.name === SESSION_TAGS_MAPPER)?.config["claim.value"];
  const sourceIdentity = client.mappers.find((m) => m.name === SOURCE_IDENTITY_MAPPER)?.config["claim.value"];
  return {
    iss: desired.issuer,
    sub,
    aud: SCOPE_AUDIENCE[scope] ?? "",
    tags: tagsValue === undefined ? undefined : JSON.parse(tagsValue),
    ...(sourceIdentity === undefined ? {} : { sourceIdentity }),
  };
}

/** The claims realm-sync cares about, as a token carries them. */
export function observedClaims(payload: Record<string, unknown>): {
  iss: unknown;
  sub: unknown;
  aud: unknown;
  tags: unknown;
  sourceIdentity: unknown;
} {
  return {
    iss: payload.iss,
    sub: payload.sub,
    aud: payload.aud,
    tags: payload[AWS_SESSION_TAGS_CLAIM],
    sourceIdentity: payload[AWS_SOURCE_IDENTITY_CLAIM],
  };
}

/** Differences between a token's claims and the expected ones (aud must be exactly a string, not a list). */
export function claimFindings(cluster: string, label: string, expected: ExpectedClaims, payload: Record<string, unknown>): Finding[] {
  const seen = observedClaims(payload);
  const out: Finding[] = [];
  const check = (name: string, want: unknown, got: unknown) => {
    if (canonical(want) !== canonical(got))
      out.push({
        type: "incoherent",
        cluster,
        message: `${label}: ${name} is ${got === undefined ? "missing" : JSON.stringify(got)}, expected ${want === undefined ? "no such claim" : JSON.stringify(want)}`,
      });
  };
  check("iss", expected.iss, seen.iss);
  check("sub", expected.sub, seen.sub);
  check("aud", expected.aud, seen.aud);
  check(AWS_SESSION_TAGS_CLAIM, expected.tags, seen.tags);
  check(AWS_SOURCE_IDENTITY_CLAIM, expected.sourceIdentity, seen.sourceIdentity);
  for (const claim of ["exp", "iat"]) {
    const v = payload[claim];
    if (v !== undefined && !Number.isInteger(v))
      out.push({ type: "incoherent", cluster, message: `${label}: ${claim} is not an integer (${JSON.stringify(v)})` });
  }
  return out;
}

/**
 * A cluster's JWKS against the committed certificates: for every configured key, the published key
 * with its `kid` must have the certificate's modulus and exponent and carry exactly that certificate
 * in `x5c`; the signing keys published must be exactly the configured ones (no key the config does
 * not name, e.g. one added by hand or by a compromised admin identity).
 */
export function jwksFindings(
  cluster: string,
  desired: Pick<DesiredState, "keys">,
  jwks: { keys?: ReadonlyArray<Record<string, unknown>> },
): Finding[] {
  const out: Finding[] = [];
  const published = (jwks.keys ?? []).filter((k) => k.use === undefined || k.use === "sig");
  for (const key of desired.keys) {
    const jwk = published.find((k) => k.kid === key.kid);
    if (!jwk) {
      out.push({ type: "incoherent", cluster, message: `JWKS lacks signing key ${key.name} (kid ${key.kid})` });
      continue;
    }
    const x5c = Array.isArray(jwk.x5c) ? (jwk.x5c as unknown[]) : [];
    if (jwk.n !== key.publicJwk.n || jwk.e !== key.publicJwk.e)
      out.push({
        type: "incoherent",
        cluster,
        message: `JWKS key ${key.kid} (${key.name}) is not the key of the committed certificate (n/e differ)`,
      });
    else if (x5c[0] !== key.certificate)
      out.push({
        type: "incoherent",
        cluster,
        message: `JWKS key ${key.kid} (${key.name}) publishes another certificate in x5c than the committed one`,
      });
  }
  const extra = published.map((k) => String(k.kid)).filter((kid) => !desired.keys.some((key) => key.kid === kid));
  if (extra.length)
    out.push({ type: "incoherent", cluster, message: `JWKS publishes signing keys the config does not name: ${extra.sort().join(", ")}` });
  return out;
}
