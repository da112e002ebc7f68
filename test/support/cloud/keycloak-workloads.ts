/**
 * Test helper: a throw-away Keycloak realm whose confidential clients mint workload tokens with
 * fixed claims (hardcoded-claim mappers for `sub`, `aud` and any JSON claim such as the AWS session
 * tags), configured directly with the admin client — the shape realm-sync gives real workloads,
 * without depending on it.
 */
import { randomBytes } from "node:crypto";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import type ProtocolMapperRepresentation from "@keycloak/keycloak-admin-client/lib/defs/protocolMapperRepresentation.js";

export interface WorkloadClientSpec {
  clientId: string;
  /** Claim name (dots escaped as Keycloak wants: `https://aws\\.amazon\\.com/tags`) → value; objects become JSON claims. */
  claims: Record<string, string | object>;
}

export interface WorkloadRealm {
  realm: string;
  issuer: string;
  /** A fresh client-credentials access token of that client. */
  token(clientId: string): Promise<string>;
  /** The realm's published JWKS (what the emulators fetch). */
  jwks(): Promise<{ keys: Array<Record<string, unknown>> }>;
  delete(): Promise<void>;
}

function mapper(name: string, value: string | object): ProtocolMapperRepresentation {
  const json = typeof value !== "string";
  return {
    name: `kcb-${name.replace(/[^A-Za-z0-9]+/g, "-")}`.slice(0, 60),
    protocol: "openid-connect",
    protocolMapper: "oidc-hardcoded-claim-mapper",
    config: {
      "claim.name": name,
      "claim.value": json ? JSON.stringify(value) : value,
      "jsonType.label": json ? "JSON" : "String",
      "access.token.claim": "true",
      "id.token.claim": "false",
      "userinfo.token.claim": "false",
      "introspection.token.claim": "true",
    },
  };
}

export async function createWorkloadRealm(opts: {
  adminUrl: string;
  publicUrl: string;
  admin: { username: string; password: string };
  realm: string;
  clients: WorkloadClientSpec[];
}): Promise<WorkloadRealm> {
  const kc = new KcAdminClient({ baseUrl: opts.adminUrl, realmName: "master" });
  await kc.auth({ grantType: "password", clientId: "admin-cli", ...opts.admin });
  await kc.realms.create({ realm: opts.realm, enabled: true });
  kc.setConfig({ realmName: opts.realm });
  const secrets = new Map<string, string>();
  for (const spec of opts.clients) {
    const secret = randomBytes(24).toString("base64url");
    secrets.set(spec.clientId, secret);
    await kc.clients.create({
      clientId: spec.clientId,
      secret,
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      // No default scopes: the token carries exactly the claims below (no `account` audience, no profile).
      defaultClientScopes: [],
      optionalClientScopes: [],
      protocolMappers: Object.entries(spec.claims).map(([name, value]) => mapper(name, value)),
    });
  }
  const issuer = `${opts.publicUrl}/realms/${opts.realm}`;
  return {
    realm: opts.realm,
    issuer,
    async token(clientId) {
      const res = await fetch(`${issuer}/protocol/openid-connect/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secrets.get(clientId) ?? "" }),
      });
      if (res.status !== 200) throw new Error(`token request for ${clientId}: HTTP ${res.status}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
    async jwks() {
      return (await (await fetch(`${issuer}/protocol/openid-connect/certs`)).json()) as { keys: Array<Record<string, unknown>> };
    },
    async delete() {
      kc.setConfig({ realmName: "master" });
      await kc.auth({ grantType: "password", clientId: "admin-cli", ...opts.admin });
      await kc.realms.del({ realm: opts.realm });
    },
  };
}
