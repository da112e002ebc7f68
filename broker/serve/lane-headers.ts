/**
 * What a fast lane reads of a request's headers, taken from Node's raw header list in one pass:
 * `req.headers` is an object Node builds on first access, and a lane that answers tens of
 * thousands of requests a second does not need it. The rules are the credential-request guard's
 * (request-guard.ts); anything the lane does not read exactly as the app would goes to the app.
 *
 * Pure.
 */
import { credentialRequestRefusal, isProxyHeader } from "./request-guard.ts";

/**
 * The value of the lane's secret header (`secretHeader`, lower case) when the request passes the
 * guard, or `undefined` when the lane leaves it to the app: a proxy header; no Host, or a Host
 * `hostAllowed` refuses; the secret header or Host given twice (Node would drop or join the
 * repeat, the app decides); no secret header.
 */
export function guardedSecret(raw: readonly string[], secretHeader: string, hostAllowed: (host: string) => boolean): string | undefined {
  let secret: string | undefined;
  let host: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === secretHeader) {
      if (secret !== undefined) return undefined;
      secret = raw[i + 1];
    } else if (name === "host") {
      if (host !== undefined) return undefined;
      host = raw[i + 1];
    } else if (isProxyHeader(name)) {
      return undefined;
    }
  }
  return secret !== undefined && host !== undefined && hostAllowed(host) ? secret : undefined;
}

/**
 * The guard's Host rule for one listener (loopback, or `alsoHost` when a non-loopback bind is
 * allowed), remembering the last value it allowed: the SDKs of a pod send one Host over and over.
 */
export function hostAllower(alsoHost?: string): (host: string) => boolean {
  const opts = alsoHost !== undefined ? { alsoHost } : {};
  let allowed: string | undefined;
  return (host) => {
    if (host === allowed) return true;
    if (credentialRequestRefusal([], host, opts) !== undefined) return false;
    allowed = host;
    return true;
  };
}
