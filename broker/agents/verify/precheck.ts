/**
 * The checks a token passes before any key is looked up, so nothing in a token can make the broker
 * fetch anything: compact JWS shape, an allow-listed asymmetric `alg`, no header that names or
 * carries a key (`jku`, `x5u`, `x5c`, `jwk`), no `crit`, no nested JWT (`cty`), a plain `kid`, and
 * `iss` exactly the pinned issuer. Pure.
 *
 * This is the only place a token is decoded: the verifier checks the signature over the same text
 * and the claims on the payload decoded here (base64url of the exact length, strict UTF-8, a JSON
 * object — as strict as jose's own decoding).
 */
import type { AsymmetricAlg } from "../ports.ts";
import type { TokenRejection } from "./rejection.ts";

export interface PrecheckOk {
  ok: true;
  alg: AsymmetricAlg;
  kid: string;
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The three base64url segments, as in the token. */
  segments: { protected: string; payload: string; signature: string };
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
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The JSON object in a base64url segment, or undefined (not base64url of a whole number of bytes, not UTF-8, not an object). */
function decodeSegment(segment: string): Record<string, unknown> | undefined {
  // base64url without padding: a length of 4n + 1 encodes no whole number of bytes (jose refuses it too).
  if (segment.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(UTF8.decode(Buffer.from(segment, "base64url")));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const fail = (reason: TokenRejection, detail: string): PrecheckFailed => ({ ok: false, reason, detail });

export function precheckToken(token: string, issuer: string, algorithms: readonly AsymmetricAlg[]): PrecheckOk | PrecheckFailed {
  if (!COMPACT_JWS.test(token)) return fail("MALFORMED", "not a compact JWS with a signature");
  const first = token.indexOf(".");
  const second = token.indexOf(".", first + 1);
  const segments = { protected: token.slice(0, first), payload: token.slice(first + 1, second), signature: token.slice(second + 1) };
  const header = decodeSegment(segments.protected);
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

  const payload = decodeSegment(segments.payload);
  if (!payload) return fail("MALFORMED", "payload is not a JSON object");
  if (payload.iss !== issuer) return fail("ISSUER_UNTRUSTED", "iss is not the trusted issuer");
  if (segments.signature.length % 4 === 1) return fail("MALFORMED", "signature is not base64url");
  return { ok: true, alg: alg as AsymmetricAlg, kid, header, payload, segments };
}
