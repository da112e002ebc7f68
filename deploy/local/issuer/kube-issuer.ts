import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { dirname } from "node:path";
import { exportJWK, generateKeyPair, SignJWT, calculateJwkThumbprint, type JWK, type CryptoKey } from "jose";
import { freePort } from "../net.ts";
import type { LocalPki } from "../pki/local-pki.ts";

/** One service account's projected token, as the kubelet asks the apiserver for it. */
export interface ServiceAccountTokenRequest {
  namespace: string;
  serviceAccount: string;
  /** `aud` of the token (a one-element array on the wire, as the apiserver writes it). */
  audience: string;
  /** Lifetime; the apiserver's minimum for projected tokens is 600 s. Default 600. */
  expirationSeconds?: number;
  /**
   * Pod the token is bound to; a name and uid are made up when absent. `null`: a token bound to no pod
   * (as `kubectl create token` issues it), without the `pod` and `node` claims.
   */
  pod?: { name: string; uid?: string } | null;
  /** Overrides of any claim, applied last, for negative tests (e.g. a wrong `iss`, `sub` or `kubernetes.io`). */
  overrideClaims?: Record<string, unknown>;
  /** Sign with this key instead of the issuer's (a forged token: same `kid`, key unknown to the JWKS). */
  forgeWith?: CryptoKey;
}

/**
 * The local stand-in for a Kubernetes apiserver's service-account issuer: OIDC discovery at
 * `${issuer}/.well-known/openid-configuration`, the JWKS, and RS256 service-account tokens with the
 * claims the apiserver writes (`sub` = `system:serviceaccount:<ns>:<name>`, the `kubernetes.io`
 * object with namespace, pod and service account).
 */
export interface KubeIssuer {
  /** The issuer URL (`iss`), `https://localhost:<port>`. */
  issuer: string;
  jwksUrl: string;
  /** `kid` of the current signing key. */
  kid(): string;
  mintToken(req: ServiceAccountTokenRequest): Promise<string>;
  /** Mints a token and writes it to `file` atomically, the way a projected volume is updated. */
  writeProjectedToken(file: string, req: ServiceAccountTokenRequest): Promise<string>;
  /** Replaces the signing key; the old key stays in the JWKS unless `dropOld`. */
  rotateKey(opts?: { dropOld?: boolean }): Promise<void>;
  /** Number of JWKS requests served (Keycloak caches the keys). */
  jwksRequests(): number;
  close(): Promise<void>;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { modulusLength: 2048 });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, privateKey, jwk: { ...jwk, kid, alg: "RS256", use: "sig" } };
}

/** Starts the issuer over HTTPS with the local PKI's server certificate (Keycloak trusts the local CA). */
export async function startKubeIssuer(opts: { pki: LocalPki; port?: number }): Promise<KubeIssuer> {
  const port = opts.port ?? (await freePort());
  const issuer = `https://localhost:${port}`;
  const jwksUrl = `${issuer}/openid/v1/jwks`;
  let keys = [await newKey()];
  let jwksHits = 0;

  const server: Server = createServer(
    { cert: readFileSync(opts.pki.serverCertFile), key: readFileSync(opts.pki.serverKeyFile) },
    (req, res) => {
      const path = new URL(req.url ?? "/", issuer).pathname;
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "GET") return json(405, { error: "method not allowed" });
      if (path === "/.well-known/openid-configuration") {
        return json(200, {
          issuer,
          jwks_uri: jwksUrl,
          response_types_supported: ["id_token"],
          subject_types_supported: ["public"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (path === "/openid/v1/jwks") {
        jwksHits++;
        return json(200, { keys: keys.map((k) => k.jwk) });
      }
      return json(404, { error: "not found" });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });

  const current = () => keys[keys.length - 1]!;

  async function mintToken(req: ServiceAccountTokenRequest): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const lifetime = req.expirationSeconds ?? 600;
    const binding =
      req.pod === null
        ? {}
        : {
            node: { name: "kcb-local-node", uid: "00000000-0000-4000-8000-000000000001" },
            pod: { name: req.pod?.name ?? `${req.serviceAccount}-${randomUUID().slice(0, 5)}`, uid: req.pod?.uid ?? randomUUID() },
          };
    const key = current();
    return new SignJWT({
      iss: issuer,
      sub: `system:serviceaccount:${req.namespace}:${req.serviceAccount}`,
      aud: [req.audience],
      iat: now,
      nbf: now,
      exp: now + lifetime,
      jti: randomUUID(),
      "kubernetes.io": { namespace: req.namespace, ...binding, serviceaccount: { name: req.serviceAccount, uid: randomUUID() } },
      ...req.overrideClaims,
    })
      .setProtectedHeader({ alg: "RS256", kid: key.kid })
      .sign(req.forgeWith ?? key.privateKey);
  }

  return {
    issuer,
    jwksUrl,
    kid: () => current().kid,
    mintToken,
    async writeProjectedToken(file, req) {
      const token = await mintToken(req);
      mkdirSync(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, token, { mode: 0o600 });
      renameSync(tmp, file);
      return token;
    },
    async rotateKey(rotate = {}) {
      const fresh = await newKey();
      keys = rotate.dropOld ? [fresh] : [...keys, fresh];
    },
    jwksRequests: () => jwksHits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
