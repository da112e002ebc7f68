/**
 * The shared secrets of the protocols that have one (AWS container `Authorization`, App Service
 * `X-IDENTITY-HEADER`): generation and a constant-time comparison.
 */
import { randomBytes } from "node:crypto";

/** 32 random bytes, base64url: 43 characters, no padding, nothing a header or a shell would mangle. */
export function generateSecret(): string {
  return randomBytes(32).toString("base64url");
}

/** What {@link generateSecret} produces (and what a reused secret file must hold). */
export const SECRET_SHAPE = /^[A-Za-z0-9_-]{43,128}$/;

/**
 * A predicate that tells whether a presented header value equals `secret`, in time independent of
 * where they differ: every character is compared and the differences are OR-ed together, with no
 * early exit. Only the length may be told apart, and the length is public: every secret is
 * {@link generateSecret}'s 43 characters or a file of that shape. In JavaScript on purpose: this
 * runs on every credential request of the pod, and copying the value into a Buffer for
 * `crypto.timingSafeEqual` cost more than the rest of the request's checks together.
 *
 * @example
 * const matches = secretMatcher(secret);
 * matches(c.req.header("authorization")); // true only for the exact secret
 */
export function secretMatcher(secret: string): (presented: string | undefined) => boolean {
  if (!SECRET_SHAPE.test(secret)) throw new TypeError("secret must be 43–128 base64url characters");
  const length = secret.length;
  return function matchesSecret(presented) {
    if (presented === undefined || presented.length !== length) return false;
    let difference = 0;
    for (let i = 0; i < length; i++) difference |= presented.charCodeAt(i) ^ secret.charCodeAt(i);
    return difference === 0;
  };
}
