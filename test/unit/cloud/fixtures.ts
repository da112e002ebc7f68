/**
 * Unit-test fixtures for the cloud emulators: real keys generated at run time, an issuer served by
 * an in-memory fetch (no socket), tokens signed with jose, and a TrustExport shaped exactly like the
 * files `realm-sync export-trust` writes.
 */
import { webcrypto } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from "jose";
import type { TrustExport } from "../../../admin-scripts/trust/artifacts.ts";
import type { FetchLike } from "../../../deploy/local/cloud/common/types.ts";

export const ISSUER = "https://issuer.example/realms/kcb";
export const ACCOUNT = "111122223333";
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:oidc-provider/issuer.example/realms/kcb`;
export const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/kcb/payments`;
export const TAG_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/tagged`;
export const LIKE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/like`;
export const SUBJECT = "workload:payments";
export const TENANT = "0d7c3a52-1f0a-4c8e-9c55-3b8f3f0a9c11";
export const CLIENT_ID = "6b1e4a38-7a53-4c3e-8b0e-2f9f1d2a7e44";

export interface SigningKey {
  kid: string;
  alg: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  publicJwk: JWK;
}

export async function makeKey(kid: string, alg = "RS256"): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

export async function sign(key: SigningKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header }).sign(key.privateKey);
}

/** Signs any header as given (RS256 only), bypassing jose's header checks: for tokens jose refuses to make. */
export async function signRaw(key: SigningKey, header: Record<string, unknown>, payload: JWTPayload): Promise<string> {
  const input = `${Buffer.from(JSON.stringify(header)).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  const signature = await webcrypto.subtle.sign("RSASSA-PKCS1-v1_5", key.privateKey, Buffer.from(input));
  return `${input}.${Buffer.from(signature).toString("base64url")}`;
}

/** A token that would be accepted by the fixture trust unless the test overrides something. */
export function goodClaims(nowSec: number, overrides: JWTPayload = {}): JWTPayload {
  return { iss: ISSUER, sub: SUBJECT, aud: "sts.amazonaws.com", azp: "payments", iat: nowSec - 5, nbf: nowSec - 5, exp: nowSec + 300, ...overrides };
}

export interface FakeIssuer {
  fetch: FetchLike;
  /** Keys currently published. */
  keys: JWK[];
  requests: string[];
  down: boolean;
}

/** Discovery + JWKS for `ISSUER`, answered from memory. `down` makes every request fail like a refused connection. */
export function fakeIssuer(keys: JWK[], issuer = ISSUER): FakeIssuer {
  const state: FakeIssuer = {
    keys,
    requests: [],
    down: false,
    fetch: (url) => {
      state.requests.push(url);
      if (state.down) return Promise.reject(new TypeError("fetch failed: ECONNREFUSED"));
      if (url === `${issuer}/.well-known/openid-configuration`) {
        return Promise.resolve(Response.json({ issuer, jwks_uri: `${issuer}/protocol/openid-connect/certs` }));
      }
      if (url === `${issuer}/protocol/openid-connect/certs`) return Promise.resolve(Response.json({ keys: state.keys }));
      return Promise.resolve(new Response("not found", { status: 404 }));
    },
  };
  return state;
}

export function trustExport(): TrustExport {
  const prefix = "issuer.example/realms/kcb";
  const federated = { Federated: PROVIDER_ARN };
  return {
    aws: {
      oidcProviders: [{ Arn: PROVIDER_ARN, Url: ISSUER, ClientIDList: ["sts.amazonaws.com"], ThumbprintList: [] }],
      roles: [
        {
          Arn: ROLE_ARN,
          RoleName: "payments",
          Path: "/kcb/",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: federated,
                Action: "sts:AssumeRoleWithWebIdentity",
                Condition: { StringEquals: { [`${prefix}:aud`]: "sts.amazonaws.com", [`${prefix}:sub`]: SUBJECT } },
              },
            ],
          },
        },
        {
          Arn: TAG_ROLE_ARN,
          RoleName: "tagged",
          Path: "/",
          MaxSessionDuration: 43_200,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              {
                Effect: "Allow",
                Principal: federated,
                Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession", "sts:SetSourceIdentity"],
                Condition: { StringEquals: { [`${prefix}:aud`]: "sts.amazonaws.com", [`${prefix}:sub`]: SUBJECT } },
              },
            ],
          },
        },
        {
          Arn: LIKE_ROLE_ARN,
          RoleName: "like",
          Path: "/",
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: {
            Version: "2012-10-17",
            Statement: [
              { Effect: "Allow", Principal: federated, Action: "sts:AssumeRoleWithWebIdentity", Condition: { StringLike: { [`${prefix}:sub`]: "workload:*" } } },
              { Effect: "Deny", Principal: federated, Action: "sts:*", Condition: { StringEquals: { [`${prefix}:sub`]: "workload:banned" } } },
            ],
          },
        },
      ],
    },
    azure: {
      federatedCredentials: [
        { tenantId: TENANT, clientId: CLIENT_ID, name: "payments", issuer: ISSUER, subject: SUBJECT, audiences: ["api://AzureADTokenExchange"], description: "" },
        { tenantId: TENANT, clientId: CLIENT_ID, name: "payments-other", issuer: ISSUER, subject: "workload:other", audiences: ["api://OtherExchange"], description: "" },
      ],
    },
  };
}
