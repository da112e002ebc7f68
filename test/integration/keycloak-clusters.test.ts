import { randomUUID } from "node:crypto";
import KcAdminClient from "@keycloak/keycloak-admin-client";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, inject, it } from "vitest";

const domain = inject("trustDomain");

describe.each(domain.clusters.map((c) => [c.name, c] as const))("cluster %s", (_name, cluster) => {
  it("is a real Keycloak 26.x that issues client-credentials tokens over HTTPS, verifiable with its JWKS", async () => {
    const admin = new KcAdminClient({ baseUrl: cluster.url, realmName: "master" });
    await admin.auth({ grantType: "password", clientId: "admin-cli", ...domain.admin });

    const info = await admin.serverInfo.find();
    expect(info.systemInfo?.version).toMatch(/^26\./);
    expect(info.features?.find((f) => f.name === "CLIENT_AUTH_FEDERATED")?.enabled).toBe(true);

    const realm = `foundation-${randomUUID().slice(0, 8)}`;
    await admin.realms.create({ realm, enabled: true });
    try {
      const clientId = "probe";
      const secret = randomUUID();
      admin.setConfig({ realmName: realm });
      await admin.clients.create({
        clientId,
        secret,
        publicClient: false,
        serviceAccountsEnabled: true,
        standardFlowEnabled: false,
        directAccessGrantsEnabled: false,
      });

      const tokenResponse = await fetch(`${cluster.url}/realms/${realm}/protocol/openid-connect/token`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId, client_secret: secret }),
      });
      expect(tokenResponse.status).toBe(200);
      const { access_token: token } = (await tokenResponse.json()) as { access_token: string };

      const jwks = createRemoteJWKSet(new URL(`${cluster.url}/realms/${realm}/protocol/openid-connect/certs`));
      const { payload } = await jwtVerify(token, jwks, { issuer: `${domain.publicUrl}/realms/${realm}`, algorithms: ["RS256"] });
      expect(payload.azp).toBe(clientId);
      expect(decodeProtectedHeader(token).kid).toBeTruthy();
    } finally {
      admin.setConfig({ realmName: "master" });
      await admin.realms.del({ realm });
    }
  });
});

describe("the trust domain", () => {
  it("runs two independent clusters behind one public issuer address", async () => {
    expect(domain.clusters.map((c) => c.name)).toEqual(["eu", "us"]);
    expect(new Set(domain.clusters.map((c) => c.pid)).size).toBe(2);
    const discovery = (await (await fetch(`${domain.publicUrl}/realms/master/.well-known/openid-configuration`)).json()) as {
      issuer: string;
    };
    expect(discovery.issuer).toBe(`${domain.publicUrl}/realms/master`);
    for (const cluster of domain.clusters) {
      const direct = (await (await fetch(`${cluster.url}/realms/master/.well-known/openid-configuration`)).json()) as { issuer: string };
      expect(direct.issuer).toBe(discovery.issuer);
    }
  });
});
