/**
 * Parsing a token-exchange request body (RFC 8693 §2.1) into a typed request, before any token is
 * looked at. Pure: every failure is an {@link AgentsError} whose code says which rule was broken.
 */
import { AgentsError } from "../errors.ts";
import {
  ACCEPTED_INPUT_TOKEN_TYPES,
  ACCESS_TOKEN_TYPE,
  AWS_CREDENTIALS_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
  type Limits,
} from "./protocol.ts";
import { parseTarget, type TargetRef } from "./target.ts";

export interface ExchangeRequest {
  subjectToken: string;
  subjectTokenType: string;
  actorToken: string;
  actorTokenType: string;
  target: TargetRef;
  /** Requested scopes, deduplicated, in request order; empty when `scope` is absent. */
  scopes: string[];
  /** The token type that will be issued (the requested one, or the target's default). */
  issuedTokenType: string;
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

// With the u flag a surrogate pair is one code point: only a lone surrogate is of category Cs.
const LONE_SURROGATE = /\p{Cs}/u;

/** One name or value of the form: `+` is a space, then percent-decoded as UTF-8; undefined when that is not strict UTF-8. */
function formComponent(text: string): string | undefined {
  if (!text.includes("%") && !text.includes("+")) return text;
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return undefined;
  }
}

/**
 * The name-value pairs of an `application/x-www-form-urlencoded` body, exactly as `URLSearchParams`
 * reads them (the WHATWG URL standard's parser), without its per-character loop over the tokens:
 * each pair is split at `&` and `=` and decoded by the engine. A body whose decoding is not strict
 * UTF-8 (a stray `%`, a lone surrogate, invalid bytes) is left to `URLSearchParams`, which replaces
 * what it cannot decode.
 */
export function formPairs(body: string): Array<[string, string]> {
  if (LONE_SURROGATE.test(body)) return [...new URLSearchParams(body)];
  const pairs: Array<[string, string]> = [];
  for (const piece of body.split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    const name = formComponent(eq < 0 ? piece : piece.slice(0, eq));
    const value = eq < 0 ? "" : formComponent(piece.slice(eq + 1));
    if (name === undefined || value === undefined) return [...new URLSearchParams(body)];
    pairs.push([name, value]);
  }
  return pairs;
}

/**
 * Reads the form parameters: every name at most once (RFC 6749 §3.2), an empty value is the same
 * as an absent parameter (RFC 6749 §3.1), unknown parameters are ignored (RFC 6749 §3.2).
 */
export function readForm(body: string): Map<string, string> {
  const params = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of formPairs(body)) {
    if (seen.has(name)) throw new AgentsError("REQUEST_MALFORMED", `parameter ${JSON.stringify(name.slice(0, 40))} repeated`);
    seen.add(name);
    if (value !== "") params.set(name, value);
  }
  return params;
}

function tokenParam(params: Map<string, string>, name: string, limits: Limits): string | undefined {
  const value = params.get(name);
  if (value !== undefined && value.length > limits.maxTokenChars)
    throw new AgentsError("TOKEN_TOO_LARGE", `${name} longer than ${limits.maxTokenChars}`);
  return value;
}

function tokenType(params: Map<string, string>, name: string): string {
  const value = params.get(name);
  if (value === undefined) throw new AgentsError("REQUEST_MALFORMED", `${name} missing`);
  if (!ACCEPTED_INPUT_TOKEN_TYPES.has(value)) throw new AgentsError("TOKEN_TYPE_UNSUPPORTED", `${name} not a JWT type`);
  return value;
}

function target(params: Map<string, string>): TargetRef {
  const resource = params.get("resource");
  const audience = params.get("audience");
  const named = [resource, audience].filter((v): v is string => v !== undefined);
  if (named.length !== 1) throw new AgentsError("TARGET_INVALID", `${named.length} targets named`);
  const ref = parseTarget(named[0] ?? "");
  if (!ref) throw new AgentsError("TARGET_INVALID", "target is neither a role ARN nor an Azure identity");
  return ref;
}

function scopes(params: Map<string, string>): string[] {
  const scope = params.get("scope");
  if (scope === undefined) return [];
  const tokens = scope.split(" ");
  if (!tokens.every((t) => SCOPE_TOKEN.test(t))) throw new AgentsError("SCOPE_NOT_ALLOWED", "malformed scope");
  return [...new Set(tokens)];
}

function issuedTokenType(params: Map<string, string>, ref: TargetRef): string {
  const wanted = params.get("requested_token_type");
  const offered = ref.cloud === "aws" ? AWS_CREDENTIALS_TOKEN_TYPE : ACCESS_TOKEN_TYPE;
  if (wanted !== undefined && wanted !== offered)
    throw new AgentsError("TOKEN_TYPE_UNSUPPORTED", `requested_token_type not issued for ${ref.cloud}`);
  return offered;
}

/**
 * The request in `body` (already size-limited by the caller), checked in the order a client can
 * fix them: form syntax, grant type, tokens and their types, target, scope, requested token type.
 */
export function parseExchangeRequest(body: string, limits: Limits): ExchangeRequest {
  const params = readForm(body);
  const grant = params.get("grant_type");
  if (grant === undefined) throw new AgentsError("REQUEST_MALFORMED", "grant_type missing");
  if (grant !== TOKEN_EXCHANGE_GRANT) throw new AgentsError("GRANT_TYPE_UNSUPPORTED", "grant_type not token-exchange");

  const subjectToken = tokenParam(params, "subject_token", limits);
  if (subjectToken === undefined) throw new AgentsError("REQUEST_MALFORMED", "subject_token missing");
  const subjectTokenType = tokenType(params, "subject_token_type");

  // RFC 8693 §2.1: actor_token_type is REQUIRED with actor_token and MUST NOT be sent without it.
  const actorToken = tokenParam(params, "actor_token", limits);
  const hasActorType = params.has("actor_token_type");
  if (actorToken === undefined && !hasActorType) throw new AgentsError("ACTOR_REQUIRED", "no actor_token");
  if (actorToken === undefined) throw new AgentsError("REQUEST_MALFORMED", "actor_token_type without actor_token");
  const actorTokenType = tokenType(params, "actor_token_type");

  const ref = target(params);
  return {
    subjectToken,
    subjectTokenType,
    actorToken,
    actorTokenType,
    target: ref,
    scopes: scopes(params),
    issuedTokenType: issuedTokenType(params, ref),
  };
}
