/**
 * AWS Signature Version 4 verification, written from the specification ("Create a signed AWS API
 * request" / "Elements of an AWS API request signature", AWS IAM User Guide), not from an SDK signer:
 *
 *   CanonicalRequest = Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n hex(SHA256(body))
 *   StringToSign     = "AWS4-HMAC-SHA256" \n X-Amz-Date \n <date>/<region>/<service>/aws4_request \n hex(SHA256(CanonicalRequest))
 *   SigningKey       = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
 *   Signature        = hex(HMAC(SigningKey, StringToSign))
 *
 * Canonical URI: each path segment URI-encoded (RFC 3986 unreserved kept) of the path as sent, i.e.
 * encoded twice for every service but S3. Canonical query: names and values URI-encoded, sorted by
 * name then value. Canonical headers: lower-case names, values trimmed with inner runs of spaces
 * collapsed. A request dated more than 15 minutes from the server's clock is refused.
 * Only credentials this emulator issued and that have not expired are accepted; the session token
 * (`X-Amz-Security-Token`) must be the one issued with the access key.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { StsError } from "./errors.ts";

export interface SigV4Request {
  method: string;
  /** The path exactly as sent on the request line, without the query. */
  path: string;
  /** The query string as sent, without `?`. */
  query: string;
  headers: { get(name: string): string | null };
  body: Uint8Array;
}

export interface SigningCredentials {
  secretAccessKey: string;
  /** Temporary credentials have one and it must be sent; long-term keys have none. */
  sessionToken: string | undefined;
  expiration: Date;
}

const MAX_SKEW_MS = 15 * 60_000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** RFC 3986 percent-encoding of everything but unreserved characters (SigV4 `UriEncode`). */
export function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, "%20"));
  } catch {
    return value;
  }
}

export function canonicalUri(path: string): string {
  const out: string[] = [];
  const segments = path.split("/");
  segments.forEach((seg, i) => {
    if (seg === ".") return;
    if (seg === "..") {
      if (out.length > 1) out.pop();
      return;
    }
    if (seg === "" && i !== 0 && i !== segments.length - 1) return;
    out.push(uriEncode(seg));
  });
  const joined = out.join("/");
  return joined.startsWith("/") ? joined : `/${joined}`;
}

export function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? "" : p.slice(eq + 1);
      return [uriEncode(safeDecode(name)), uriEncode(safeDecode(value))] as const;
    })
    .sort(([an, av], [bn, bv]) => (an < bn ? -1 : an > bn ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([n, v]) => `${n}=${v}`)
    .join("&");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
}

function parseAuthorization(header: string): ParsedAuthorization {
  const prefix = "AWS4-HMAC-SHA256 ";
  if (!header.startsWith(prefix))
    throw new StsError("IncompleteSignature", "Unsupported AWS 'algorithm': only AWS4-HMAC-SHA256 is accepted");
  const fields = new Map<string, string>();
  for (const part of header.slice(prefix.length).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const credential = fields.get("Credential");
  const signedHeaders = fields.get("SignedHeaders");
  const signature = fields.get("Signature");
  if (!credential || !signedHeaders || !signature) {
    throw new StsError("IncompleteSignature", "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.");
  }
  const scope = credential.split("/");
  if (scope.length !== 5 || scope.some((s) => s === ""))
    throw new StsError(
      "IncompleteSignature",
      "Credential must have exactly 5 slash-delimited elements: <key>/<date>/<region>/<service>/aws4_request",
    );
  const [accessKeyId, date, region, service, terminator] = scope as [string, string, string, string, string];
  if (!/^[0-9a-f]{64}$/.test(signature)) throw new StsError("IncompleteSignature", "Signature must be 64 lower-case hex characters.");
  return { accessKeyId, date, region, service, terminator, signedHeaders: signedHeaders.split(";"), signature };
}

/**
 * Verifies the request's SigV4 signature with credentials from `lookup`; resolves with what `lookup`
 * returned, or throws the `StsError` STS would answer with.
 */
export function verifySigV4<T extends SigningCredentials>(
  req: SigV4Request,
  lookup: (accessKeyId: string) => T | undefined,
  nowMs: number,
  service = "sts",
): T {
  const authorization = req.headers.get("authorization");
  if (!authorization) throw new StsError("MissingAuthenticationToken", "Request is missing Authentication Token");
  const auth = parseAuthorization(authorization);

  const amzDate = req.headers.get("x-amz-date");
  if (!amzDate)
    throw new StsError("IncompleteSignature", "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  const m = AMZ_DATE.exec(amzDate);
  if (!m) throw new StsError("IncompleteSignature", `X-Amz-Date must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'`);
  if (auth.date !== amzDate.slice(0, 8) || auth.service !== service || auth.terminator !== "aws4_request") {
    throw new StsError(
      "SignatureDoesNotMatch",
      `Credential should be scoped to a valid date, region and service: <date>/<region>/${service}/aws4_request`,
    );
  }
  // Over HTTP/2 the host travels as the `:authority` pseudo-header, and SDKs sign it under that name.
  if (!auth.signedHeaders.includes("host") && !auth.signedHeaders.includes(":authority"))
    throw new StsError("SignatureDoesNotMatch", "The host header must be signed.");

  const creds = lookup(auth.accessKeyId);
  if (!creds) throw new StsError("InvalidClientTokenId", "The security token included in the request is invalid.");
  const token = req.headers.get("x-amz-security-token");
  const expectedToken = creds.sessionToken;
  const tokenOk =
    expectedToken === undefined
      ? token === null
      : token !== null && token.length === expectedToken.length && timingSafeEqual(Buffer.from(token), Buffer.from(expectedToken));
  if (!tokenOk) {
    throw new StsError("InvalidClientTokenId", "The security token included in the request is invalid.");
  }
  if (creds.expiration.getTime() <= nowMs) throw new StsError("ExpiredToken", "The security token included in the request is expired");

  const signedAt = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Math.abs(nowMs - signedAt) > MAX_SKEW_MS) {
    throw new StsError(
      "SignatureDoesNotMatch",
      `Signature expired: ${amzDate} is now earlier than the allowed window of 15 minutes around the server time.`,
    );
  }

  const bodyHash = sha256Hex(req.body);
  const declaredHash = req.headers.get("x-amz-content-sha256");
  if (declaredHash !== null && declaredHash !== bodyHash)
    throw new StsError("SignatureDoesNotMatch", "The provided x-amz-content-sha256 header does not match what was computed.");

  const canonicalHeaders = auth.signedHeaders
    .map((name) => {
      const value = req.headers.get(name);
      if (value === null) throw new StsError("SignatureDoesNotMatch", `Signed header ${name} is missing from the request.`);
      return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
    })
    .join("");
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(req.path),
    canonicalQuery(req.query),
    canonicalHeaders,
    auth.signedHeaders.join(";"),
    bodyHash,
  ].join("\n");
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${creds.secretAccessKey}`, auth.date), auth.region), auth.service), "aws4_request");
  const expected = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest();
  if (!timingSafeEqual(expected, Buffer.from(auth.signature, "hex"))) {
    throw new StsError(
      "SignatureDoesNotMatch",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    );
  }
  return creds;
}
