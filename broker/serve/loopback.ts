/**
 * The one loopback rule of the broker, used for the listen address (config and serve options) and
 * for the `Host` header of the IMDS endpoint. Strict: only addresses that certainly reach this
 * machine (or pod) alone.
 *
 * - `localhost` (any case);
 * - a dotted-quad IPv4 address in `127.0.0.0/8`, each part 0–255 without leading zeros
 *   (`127.0.0.300`, `127.1`, `0127.0.0.1` are refused: they are not addresses or are read as octal
 *   by some resolvers);
 * - the IPv6 loopback `::1` in any spelling (`0:0:0:0:0:0:0:1`, `::0:1`), bare or in brackets,
 *   without a zone id.
 */
import { isIPv4, isIPv6 } from "node:net";

export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === "localhost") return true;
  if (isIPv4(h)) return h.startsWith("127.");
  const bare = h.startsWith("[") && h.endsWith("]") ? h.slice(1, -1) : h;
  if (!isIPv6(bare) || bare.includes("%")) return false;
  return new URL(`http://[${bare}]/`).hostname === "[::1]";
}
