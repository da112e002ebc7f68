/**
 * The checks a token passes before any key is looked up, so nothing in a token can make the broker
 * fetch anything: compact JWS shape, an allow-listed asymmetric `alg`, no header that names or
 * carries a key (`jku`, `x5u`, `x5c`, `jwk`), no `crit`, no nested JWT (`cty`), a plain `kid`, and
 * `iss` exactly the pinned issuer. Pure.
 */
import type { AsymmetricAlg } from "../ports.ts";
import type { TokenRejection } from "./rejection.ts";

export interface PrecheckOk {
  ok: true;
  alg: AsymmetricAlg;
  kid: string;
}
export interface PrecheckFailed {
  ok: false;
  reason: TokenRejection;
  detail: string;
}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
// Header parameters that point at or embed a key (RFC 7515 §4.1.2–4.1.6) or demand extensions (§4.1.11).
const FORBIDDEN_HEADERS = ["jku", "jwk", "x5u", "x5c", "crit"] as const;
const KID = /^[A-Za-z0-9_-](?:[A-Za-z0-9_.-]{0,126}[A-Za-z0-9_-])?$/;
const TYP = /^(?:application\/)?(?:jwt|at\+jwt)$/i;

function decodeSegment(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const fail = (reason: TokenRejection, detail: string): PrecheckFailed => ({ ok: false, reason, detail });

export function precheckToken(token: string, issuer: string, algorithms: readonly AsymmetricAlg[]): PrecheckOk | PrecheckFailed {
  if (!COMPACT_JWS.test(token)) return fail("MALFORMED", "not a compact JWS with a signature");
  const [headerPart = "", payloadPart = ""] = token.split(".");
  const header = decodeSegment(headerPart);
  if (!header) return fail("MALFORMED", "header is not a JSON object");

  const alg = header.alg;
  if (typeof alg !== "string" || !(algorithms as readonly string[]).includes(alg))
    return fail("ALG_NOT_ALLOWED", `alg ${JSON.stringify(alg)?.slice(0, 20)} not allowed`);
  for (const name of FORBIDDEN_HEADERS) {
    if (name in header) return fail("HEADER_FORBIDDEN", `header parameter ${name} refused`);
  }
  if ("cty" in header) return fail("NESTED_JWT", "cty present: nested or non-JWT content refused");
  if ("typ" in header && (typeof header.typ !== "string" || !TYP.test(header.typ))) return fail("HEADER_FORBIDDEN", "typ is not JWT");
  const kid = header.kid;
  if (typeof kid !== "string" || !KID.test(kid) || kid.includes("..")) return fail("KID_INVALID", "kid missing or not a plain key id");

  const payload = decodeSegment(payloadPart);
  if (!payload) return fail("MALFORMED", "payload is not a JSON object");
  if (payload.iss !== issuer) return fail("ISSUER_UNTRUSTED", "iss is not the trusted issuer");
  return { ok: true, alg: alg as AsymmetricAlg, kid };
}
