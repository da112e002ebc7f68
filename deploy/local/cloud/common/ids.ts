import { createHash, randomBytes, randomUUID } from "node:crypto";

/** First 12 hex chars of sha256: how tokens appear in records and logs, never the token itself. */
export function sha256Prefix(value: string): string {
  return createHash("sha256").update(value).digest("hex").slice(0, 12);
}

export function requestId(): string {
  return randomUUID();
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Upper-case base32 characters, as in AWS key and principal ids. */
export function randomBase32(length: number): string {
  const bytes = randomBytes(length);
  let out = "";
  for (const b of bytes) out += BASE32[b % 32];
  return out;
}

/** A stable base32 id derived from a name (role ids stay the same for one role ARN). */
export function stableBase32(seed: string, length: number): string {
  const digest = createHash("sha256").update(seed).digest();
  let out = "";
  for (let i = 0; i < length; i++) out += BASE32[(digest[i % digest.length] ?? 0) % 32];
  return out;
}

/** A stable GUID derived from a name (the Entra service principal's object id for a client id). */
export function stableGuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
