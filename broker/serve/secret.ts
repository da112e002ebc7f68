/**
 * The shared secrets of the protocols that have one (AWS container `Authorization`, App Service
 * `X-IDENTITY-HEADER`): generation and a constant-time comparison.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";

/** 32 random bytes, base64url: 43 characters, no padding, nothing a header or a shell would mangle. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** What {@link generateSecret} produces (and what a reused secret file must hold). */
export const SECRET_SHAPE = /^[A-Za-z0-9_-]{43,128}$/;

/**
 * A predicate that tells whether a presented header value equals `secret`, in time independent of
 * where they differ (`timingSafeEqual` over the bytes). Only the length may be told apart, and the
 * length is public: every secret is {@link generateSecret}'s 43 characters or a file of that shape.
 * No hashing per request: this runs on every credential request of the pod.
 *
 * @example
 * const matches = secretMatcher(secret);
 * matches(c.req.header("authorization")); // true only for the exact secret
 */
export function secretMatcher(secret: string): (presented: string | undefined) => boolean {
  if (!SECRET_SHAPE.test(secret)) throw new TypeError("secret must be 43–128 base64url characters");
  const expected = Buffer.from(secret, "utf8");
  return function matchesSecret(presented) {
    if (presented === undefined || presented.length !== secret.length) return false;
    const bytes = Buffer.from(presented, "utf8");
    return bytes.length === expected.length && timingSafeEqual(bytes, expected);
  };
}
