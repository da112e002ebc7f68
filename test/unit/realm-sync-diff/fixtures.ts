/**
 * Test data for the pure realm-sync layers: a small trust domain with real RSA keys generated at
 * run time, and a simulated "what Keycloak returns after realm-sync applied it" live state,
 * including the extras Keycloak adds on its own (default attributes, generated HMAC/AES keys).
 */
import "reflect-metadata";
import { generateKeyPairSync, randomUUID, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { buildDesired } from "../../../admin-scripts/desired/build.ts";
import { keyConfig } from "../../../admin-scripts/desired/key-provider.ts";
import type { DesiredState } from "../../../admin-scripts/desired/types.ts";
import type { LiveState } from "../../../admin-scripts/diff/live.ts";
import { TrustDomain, type SecretRef } from "../../../realm-config/model/schema.ts";

export function rsaPem(bits = 2048): string {
  return generateKeyPairSync("rsa", { modulusLength: bits }).privateKey.export({ type: "pkcs8", format: "pem" }).toString();
}

export function publicPem(): string {
  return generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey.export({ type: "spki", format: "pem" }).toString();
}

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A self-signed X.509 certificate (PEM) of a fresh RSA key: what an operator commits for a signing key. */
export async function certificatePem(bits = 2048, notAfter = new Date(Date.UTC(2049, 0, 1))): Promise<string> {
  const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256", publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: "01", name: "CN=unit", notBefore: new Date(Date.UTC(2020, 0, 1)), notAfter, keys, signingAlgorithm: alg });
  return cert.toString("pem");
}

export const SECRETS: Record<string, string> = {
  KEY_1: await certificatePem(),
  KEY_2: await certificatePem(),
  ADMIN_PW: "admin-password",
  LEGACY_SECRET: "legacy-client-secret-value-1",
  BATCH_PUB: publicPem(),
};

export const resolveTestSecret = (ref: SecretRef): string => {
  const name = "env" in ref ? ref.env : ref.file;
  const v = SECRETS[name];
  if (v === undefined) throw new Error(`environment variable ${name} is not set`);
  return v;
};

/** A trust domain with one workload per authentication method. */
export function trustDomain(overrides: Partial<Record<string, unknown>> = {}): TrustDomain {
  return TrustDomain.parse({
    version: 1,
    realm: "unit",
    issuer: "https://issuer.example/realms/unit",
    clusters: [
      { name: "eu", adminUrl: "https://kc-eu.example", auth: { username: "admin", password: { env: "ADMIN_PW" } } },
      { name: "us", adminUrl: "https://kc-us.example", auth: { username: "admin", password: { env: "ADMIN_PW" } } },
    ],
    signingKeys: [{ name: "key-1", certificate: { file: "KEY_1" }, keystore: { file: "key-1.p12", passwordVault: "key-1-keystore" }, status: "active" }],
    workloads: [
      {
        name: "payments-api",
        subject: "workload:payments-api",
        authentication: { kubernetes: { issuer: "https://k8s.example", serviceAccount: "system:serviceaccount:payments:api" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/payments" }], sessionTags: { team: "payments", "cost-center": "4711" }, transitiveTagKeys: ["team"] },
      },
      {
        name: "reporting-batch",
        subject: "workload:reporting-batch",
        authentication: { privateKeyJwt: { publicKey: { env: "BATCH_PUB" } } },
        azure: { identities: [{ name: "reports", tenantId: "8f3a1c52-6b0e-4d7a-9c21-5e4b7a9d0f13", clientId: "5d1f7a30-9e4c-4b62-a7d8-0c3e5f1b2a96", scopes: ["https://storage.azure.com/.default"] }] },
      },
      {
        name: "legacy-etl",
        subject: "workload:legacy-etl",
        authentication: { clientSecret: { env: "LEGACY_SECRET" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/legacy" }] },
      },
    ],
    ...overrides,
  });
}

export function desiredOf(td: TrustDomain = trustDomain()): Promise<DesiredState> {
  return buildDesired(td, resolveTestSecret);
}

const id = () => randomUUID();

/** What a cluster returns once `desired` has been applied to it. */
export function liveOf(desired: DesiredState): LiveState {
  const realmId = id();
  return {
    realm: { id: realmId, realm: desired.realm.realm, enabled: true, accessTokenLifespan: desired.realm.accessTokenLifespan, attributes: { ...desired.realm.attributes, cibaInterval: "5" } },
    keys: [
      ...desired.keys.map((k) => ({
        id: id(),
        name: k.name,
        providerId: "java-keystore",
        // Keycloak returns vault references as they are (only plain secrets are masked) and keeps no kid in the listing.
        config: Object.fromEntries(Object.entries(keyConfig(k)).filter(([key]) => key !== "kid").map(([key, value]) => [key, [value]])),
        loaded: { kid: k.kid, certificate: k.certificate },
      })),
      { id: id(), name: "hmac-generated-hs512", providerId: "hmac-generated", config: { priority: ["100"], algorithm: ["HS512"] } },
      { id: id(), name: "aes-generated", providerId: "aes-generated", config: { priority: ["100"] } },
    ],
    clientScopes: [
      ...desired.clientScopes.map((s) => ({ id: id(), name: s.name, description: s.description, protocol: "openid-connect", attributes: { ...s.attributes }, mappers: s.mappers.map((m) => ({ id: id(), ...m, config: { ...m.config } })) })),
      { id: id(), name: "profile", description: "OpenID Connect built-in scope: profile", protocol: "openid-connect", attributes: {}, mappers: [] },
    ],
    identityProviders: desired.identityProviders.map((p) => ({ alias: p.alias, internalId: id(), providerId: p.providerId, enabled: true, displayName: p.displayName, config: { ...p.config, hideOnLogin: "true" } })),
    clients: desired.clients.map((c) => ({
      id: id(),
      clientId: c.clientId,
      name: c.name,
      description: c.description,
      enabled: true,
      protocol: "openid-connect",
      publicClient: false,
      bearerOnly: false,
      consentRequired: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      fullScopeAllowed: false,
      clientAuthenticatorType: c.clientAuthenticatorType,
      secret: c.secret ?? "generated-by-keycloak",
      // Keycloak drops empty attributes and adds its own.
      attributes: { ...Object.fromEntries(Object.entries(c.attributes).filter(([, v]) => v !== "")), realm_client: "false", "client.secret.creation.time": "1795559241" },
      defaultClientScopes: [...c.defaultClientScopes],
      optionalClientScopes: [...c.optionalClientScopes].reverse(),
      mappers: c.mappers.map((m) => ({ id: id(), ...m, config: { ...m.config } })),
    })),
  };
}
