/**
 * The emulator's own token service: an RS256 key generated at start (never stored), access tokens
 * for a resource shaped like Entra v2.0 app-only tokens (`iss` `<authority>/<tenant>/v2.0`, `aud` the
 * resource, `tid`, `oid`/`sub` of the service principal, `azp`/`appid` the client id, `idtyp: app`),
 * and their verification for the protected test resource.
 */
import { randomUUID } from "node:crypto";
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from "jose";
import { stableGuid } from "../common/ids.ts";

export interface AccessTokenClaims {
  iss: string;
  aud: string;
  tid: string;
  oid: string;
  sub: string;
  azp: string;
  appid: string;
  idtyp: string;
  ver: string;
  iat: number;
  nbf: number;
  exp: number;
}

export interface TokenSigner {
  jwks: { keys: JWK[] };
  issue(opts: {
    issuer: string;
    tenant: string;
    clientId: string;
    resource: string;
    nowSeconds: number;
    lifetimeSec: number;
  }): Promise<string>;
  /** Verifies a token this signer issued, for `audience`, with `iss` equal to `issuerFor(tid)`; `undefined` when it is not one. */
  verify(
    token: string,
    opts: { issuerFor: (tenant: string) => string; audience: string; nowSeconds: number },
  ): Promise<AccessTokenClaims | undefined>;
}

export async function createTokenSigner(): Promise<TokenSigner> {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  const kid = randomUUID();
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  return {
    jwks: { keys: [jwk] },
    async issue({ issuer, tenant, clientId, resource, nowSeconds, lifetimeSec }) {
      const oid = stableGuid(`${tenant}/${clientId}`);
      return new SignJWT({ tid: tenant, oid, azp: clientId, appid: clientId, azpacr: "2", idtyp: "app", ver: "2.0", uti: randomUUID() })
        .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
        .setIssuer(issuer)
        .setAudience(resource)
        .setSubject(oid)
        .setIssuedAt(nowSeconds)
        .setNotBefore(nowSeconds)
        .setExpirationTime(nowSeconds + lifetimeSec)
        .sign(privateKey);
    },
    async verify(token, { issuerFor, audience, nowSeconds }) {
      try {
        const { payload } = await jwtVerify(token, publicKey, {
          audience,
          algorithms: ["RS256"],
          currentDate: new Date(nowSeconds * 1000),
        });
        if (typeof payload.tid !== "string" || payload.iss !== issuerFor(payload.tid)) return undefined;
        return payload as unknown as AccessTokenClaims;
      } catch {
        return undefined;
      }
    },
  };
}
