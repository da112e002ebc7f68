/**
 * What every credential route refuses before it looks at anything else, on both paths (the Hono
 * app and the node:http fast lane):
 *
 * - a proxy header (`Forwarded`, `Via`, `X-Forwarded-*`, `X-Real-IP`): credentials are handed to a
 *   process in the pod over loopback, never relayed — a proxy or an SSRF-able service in the pod
 *   that forwards someone else's request gives itself away with these (real IMDS refuses
 *   `X-Forwarded-For` for the same reason);
 * - a `Host` that is not a loopback name or address (169.254.169.254 too, for the IMDS endpoint):
 *   a browser page that rebinds its DNS name to 127.0.0.1 still sends its own name as `Host`.
 *
 * Pure.
 */
import { isLoopbackHost } from "./loopback.ts";

/** Link-local address of the real IMDS, which the SDKs may put in `Host`. */
export const IMDS_ADDRESS = "169.254.169.254";

const PROXY_HEADERS = ["forwarded", "via", "x-real-ip"];

/** The host name of a `Host` header value (`127.0.0.1:8999` → `127.0.0.1`, `[::1]:80` → `[::1]`). */
export function hostName(host: string): string {
  const end = host.startsWith("[") ? host.indexOf("]") + 1 : host.indexOf(":");
  return end > 0 ? host.slice(0, end) : host;
}

/** Whether a header name (lower case) is one a proxy adds. */
export function isProxyHeader(name: string): boolean {
  return PROXY_HEADERS.includes(name) || name.startsWith("x-forwarded-");
}

/** Why a credential request is refused, or `undefined` when it may proceed. `names` are the request's header names in lower case. */
export function credentialRequestRefusal(
  names: Iterable<string>,
  host: string | undefined,
  opts: { allowImdsHost?: boolean; alsoHost?: string } = {},
): string | undefined {
  for (const name of names) {
    if (isProxyHeader(name)) return "requests through a proxy are refused";
  }
  if (host === undefined) return "bad Host header";
  const name = hostName(host);
  if (isLoopbackHost(name) || (opts.allowImdsHost === true && name === IMDS_ADDRESS)) return undefined;
  if (opts.alsoHost !== undefined && name.toLowerCase() === opts.alsoHost.toLowerCase()) return undefined;
  return "bad Host header";
}

/** The hosts a credential request may name besides loopback: the listener's own configured host when the operator allowed a non-loopback bind. */
export function extraAllowedHost(options: { host: string; allowNonLoopback?: boolean }): string | undefined {
  return options.allowNonLoopback === true ? options.host : undefined;
}
