/**
 * How the sidecar authenticates to Keycloak's token endpoint, in the order of preference:
 *
 * 1. `kubernetes`: the projected service-account token as a federated client assertion
 *    (RFC 7523 §2.2; Keycloak's `federated-jwt` authenticator, which finds the client from the
 *    assertion's `iss` and `sub`). The file is read on every request: kubelet rotates it in place.
 * 2. `privateKeyJwt`: an assertion signed with the workload's own key (RFC 7523 §3, OIDC Core §9).
 * 3. `clientSecret`: `client_secret_post` or `client_secret_basic`, the secret read from a file on
 *    every request (so a rotated secret is picked up without a restart).
 */
import { createPublicKey, randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { calculateJwkThumbprint, decodeJwt, exportJWK, importPKCS8, SignJWT } from "jose";
import { systemClock, type Clock } from "../clock.ts";
import type { AuthenticationConfig } from "../config.ts";
import { BrokerError } from "../errors.ts";

/** A token request being built: the method adds its parameters to `body` or its header to `headers`. */
export interface TokenRequest {
  /** The realm's issuer (the `aud` of a signed assertion). */
  issuer: string;
  tokenEndpoint: string;
  clientId: string;
  body: URLSearchParams;
  headers: Record<string, string>;
}

/** A client authentication method (RFC 6749 §2.3, RFC 7523 §2.2); may read files, so awaited. */
export type ClientAuth = (request: TokenRequest) => Promise<void>;

/** How long a signed client assertion is valid. */
const ASSERTION_LIFETIME_SECONDS = 60;

export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

export interface ClientAuthOptions {
  clock?: Clock;
}

function unreadable(what: string, file: string, cause?: unknown): BrokerError {
  return new BrokerError(
    "CLIENT_ASSERTION_UNREADABLE",
    `${what} ${file} ${cause ? "cannot be read" : "is not usable"}`,
    cause === undefined ? undefined : { cause },
  );
}

/**
 * Reads the projected service-account token: a JWT that has not expired yet. Never returns an
 * expired token: Keycloak would refuse it and the refusal would look like a trust problem.
 */
export async function readServiceAccountToken(file: string, now: number): Promise<string> {
  let text: string;
  try {
    text = (await readFile(file, "utf8")).trim();
  } catch (error) {
    throw unreadable("the service-account token", file, error);
  }
  let exp: unknown;
  try {
    exp = decodeJwt(text).exp;
  } catch {
    throw new BrokerError("CLIENT_ASSERTION_UNREADABLE", `the service-account token ${file} is not a JWT`);
  }
  if (typeof exp === "number" && exp * 1000 <= now) {
    throw new BrokerError(
      "CLIENT_ASSERTION_UNREADABLE",
      `the service-account token ${file} expired at ${new Date(exp * 1000).toISOString()} (is the projected volume still being refreshed?)`,
    );
  }
  return text;
}

/** `client_assertion` = the service-account token, read fresh for each request. */
export function federatedServiceAccountAuth(tokenFile: string, options: ClientAuthOptions = {}): ClientAuth {
  const clock = options.clock ?? systemClock;
  return async ({ clientId, body }) => {
    const assertion = await readServiceAccountToken(tokenFile, clock.now());
    body.set("client_id", clientId);
    body.set("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
    body.set("client_assertion", assertion);
  };
}

/** RFC 7638 thumbprint of the public half of a PEM private key: the `kid` realm-sync registers by default. */
export async function publicKeyThumbprint(privateKeyPem: string): Promise<string> {
  return calculateJwkThumbprint(await exportJWK(createPublicKey(privateKeyPem)));
}

/**
 * A PEM PKCS#8 private key, re-imported when the file changes (by mtime and size). Without a
 * configured `kid` the assertion carries the key's RFC 7638 thumbprint. The assertion: `iss` and
 * `sub` the client id, `aud` the issuer, a fresh `jti`, valid {@link ASSERTION_LIFETIME_SECONDS}.
 */
export function privateKeyJwtAuth(keyFile: string, alg: string, kid: string | undefined, options: ClientAuthOptions = {}): ClientAuth {
  const clock = options.clock ?? systemClock;
  let loaded: { stamp: string; key: Awaited<ReturnType<typeof importPKCS8>>; kid: string } | undefined;
  return async ({ issuer, clientId, body }) => {
    let stamp: string;
    let pem: string | undefined;
    try {
      const s = await stat(keyFile);
      stamp = `${s.mtimeMs}:${s.size}`;
      if (loaded?.stamp !== stamp) pem = await readFile(keyFile, "utf8");
    } catch (error) {
      throw unreadable("the private key", keyFile, error);
    }
    if (pem !== undefined) {
      try {
        loaded = { stamp, key: await importPKCS8(pem, alg), kid: kid ?? (await publicKeyThumbprint(pem)) };
      } catch (error) {
        throw new BrokerError("CLIENT_ASSERTION_UNREADABLE", `the private key ${keyFile} is not a PKCS#8 PEM key for ${alg}`, {
          cause: error,
        });
      }
    }
    const { key, kid: keyId } = loaded!;
    const now = Math.floor(clock.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg, kid: keyId })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(issuer)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ASSERTION_LIFETIME_SECONDS)
      .sign(key);
    body.set("client_id", clientId);
    body.set("client_assertion_type", JWT_BEARER_ASSERTION_TYPE);
    body.set("client_assertion", assertion);
  };
}

/** RFC 6749 §2.3.1: id and secret are form-urlencoded (Appendix B) before they are joined and base64-encoded. */
function formUrlEncode(value: string): string {
  return encodeURIComponent(value).replace(/%20|[!'()~]/g, (c) => (c === "%20" ? "+" : `%${c.charCodeAt(0).toString(16).toUpperCase()}`));
}

/** `client_secret_post` / `client_secret_basic` with the secret read from a file (trailing newline ignored). */
export function clientSecretFileAuth(file: string, method: "client_secret_post" | "client_secret_basic"): ClientAuth {
  return async ({ clientId, body, headers }) => {
    let secret: string;
    try {
      secret = (await readFile(file, "utf8")).replace(/\r?\n$/, "");
    } catch (error) {
      throw unreadable("the client secret", file, error);
    }
    if (secret.length === 0) throw unreadable("the client secret", file);
    if (method === "client_secret_basic") {
      headers.authorization = `Basic ${Buffer.from(`${formUrlEncode(clientId)}:${formUrlEncode(secret)}`).toString("base64")}`;
    } else {
      body.set("client_id", clientId);
      body.set("client_secret", secret);
    }
  };
}

/** The ClientAuth for the configured method. */
export function clientAuthFor(config: AuthenticationConfig, options: ClientAuthOptions = {}): ClientAuth {
  if (config.kubernetes) return federatedServiceAccountAuth(config.kubernetes.tokenFile, options);
  if (config.privateKeyJwt)
    return privateKeyJwtAuth(config.privateKeyJwt.keyFile, config.privateKeyJwt.alg, config.privateKeyJwt.kid, options);
  if (config.clientSecret) return clientSecretFileAuth(config.clientSecret.file, config.clientSecret.method);
  throw new TypeError("no authentication method configured");
}

/** Which method is configured, for logs and `check-config`. */
export function authMethodName(config: AuthenticationConfig): string {
  if (config.kubernetes) return "kubernetes (federated-jwt)";
  if (config.privateKeyJwt) return "private_key_jwt";
  return config.clientSecret?.method ?? "none";
}
