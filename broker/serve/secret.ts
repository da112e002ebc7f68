/**
 * The shared secrets of the protocols that have one (AWS container `Authorization`, App Service
 * `X-IDENTITY-HEADER`): generation and a constant-time comparison.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** 32 random bytes, base64url: 43 characters, no padding, nothing a header or a shell would mangle. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** What {@link generateSecret} produces (and what a reused secret file must hold). */
export const SECRET_SHAPE = /^[A-Za-z0-9_-]{43,128}$/;

/**
 * A predicate that tells whether a presented header value equals `secret`, in time independent of
 * where they differ and of the presented length (both sides are hashed to 32 bytes first, so
 * `timingSafeEqual` always compares equal lengths).
 *
 * @example
 * const matches = secretMatcher(secret);
 * matches(c.req.header("authorization")); // true only for the exact secret
 */
export function secretMatcher(secret: string): (presented: string | undefined) => boolean {
  if (!SECRET_SHAPE.test(secret)) throw new TypeError("secret must be 43–128 base64url characters");
  const expected = createHash("sha256").update(secret).digest();
  return function matchesSecret(presented) {
    if (presented === undefined) return false;
    return timingSafeEqual(createHash("sha256").update(presented).digest(), expected);
  };
}
