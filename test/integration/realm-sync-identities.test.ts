/**
 * realm-sync's own identities on both real clusters: `bootstrap-identities` (the only command given
 * the bootstrap admin) creates the realm and the apply and view identities; `apply` works with the
 * apply identity, `plan` and `check` (extension check included) with the view identity; each
 * identity's own token is refused (HTTP 403) everywhere outside its roles.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type KcAdminClient from "@keycloak/keycloak-admin-client";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { APPLY_ROLES, VIEW_ROLES } from "../../admin-scripts/desired/identities.ts";
import { startKubeIssuer, type KubeIssuer } from "../../deploy/local/issuer/kube-issuer.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { recordSecret } from "../support/log-scan.ts";
import { createRealmFixture, fixtureIdentityClientIds, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
const SECRET = randomClientSecret();
const OTHER_REALM = `other-${randomUUID().slice(0, 8)}`;

let fx: RealmFixture;
let kube: KubeIssuer;
let ids: { apply: string; view: string };

const clusterUrl = (name: string) => domain.clusters.find((c) => c.name === name)!.url;
const secretFile = (cluster: string, kind: "apply" | "view") => join(fx.dir, `realm-sync-${cluster}-${kind}.secret`);

/** A client-credentials token of one of realm-sync's identities, from the master realm. */
async function identityToken(
  cluster: string,
  kind: "apply" | "view",
  secret = readFileSync(secretFile(cluster, kind), "utf8").trim(),
): Promise<{ status: number; token?: string }> {
  const res = await fetch(`${clusterUrl(cluster)}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: ids[kind], client_secret: secret }),
  });
  const body = (await res.json()) as { access_token?: string };
  return { status: res.status, token: body.access_token };
}

/** One admin-API request with an identity's token; returns the HTTP status. */
async function adminCall(cluster: string, kind: "apply" | "view", method: string, path: string, body?: unknown): Promise<number> {
  const { token } = await identityToken(cluster, kind);
  const res = await fetch(`${clusterUrl(cluster)}/admin/realms${path ? `/${path}` : ""}`, {
    method,
    headers: { authorization: `Bearer ${token!}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.arrayBuffer();
  return res.status;
}

/** The identities as the bootstrap admin sees them in the master realm: client settings and every role mapping. */
async function identitiesState(admin: KcAdminClient) {
  const out: Record<string, unknown> = {};
  for (const clientId of Object.values(ids)) {
    const [client] = await admin.clients.find({ realm: "master", clientId });
    const user = await admin.clients.getServiceAccountUser({ realm: "master", id: client!.id! });
    const mappings = await admin.users.listRoleMappings({ realm: "master", id: user.id! });
    const clientRoles = Object.fromEntries(
      Object.entries((mappings.clientMappings ?? {}) as Record<string, { mappings: Array<{ name: string }> }>).map(([k, v]) => [
        k,
        v.mappings.map((r) => r.name).sort(),
      ]),
    );
    out[clientId] = { client, realmRoles: (mappings.realmMappings ?? []).map((r) => r.name).sort(), clientRoles };
  }
  return out;
}

beforeAll(async () => {
  kube = await startKubeIssuer({ pki: await ensureLocalPki() });
  fx = await createRealmFixture({
    domain,
    prefix: "identities",
    files: { "batch.secret": SECRET },
    workloads: [
      {
        name: "orders-api",
        subject: "workload:orders-api",
        authentication: { kubernetes: { issuer: kube.issuer, serviceAccount: "system:serviceaccount:orders:orders-api" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/orders" }] },
      },
      {
        name: "batch",
        subject: "workload:batch",
        authentication: { clientSecret: { file: "batch.secret" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/batch" }] },
      },
    ],
  });
  // A Kubernetes issuer needs the Keycloak extension: plan and check read the server info to check it.
  fx.writeConfig((doc) => {
    doc.kubernetesIssuers = [{ issuer: kube.issuer, clusterName: "local-1" }];
  });
  ids = fixtureIdentityClientIds(fx.realm);
  for (const c of domain.clusters) await (await fx.admin(c.name)).realms.create({ realm: OTHER_REALM, enabled: true });
});

afterAll(async () => {
  for (const c of domain.clusters) await (await fx.admin(c.name)).realms.del({ realm: OTHER_REALM }).catch(() => undefined);
  await fx?.remove();
  await kube?.close();
});

describe("realm-sync bootstrap-identities on both clusters", () => {
  it("created the realm and both identities, each with exactly its roles of <realm>-realm, secrets only in 0600 files", async () => {
    for (const c of domain.clusters) {
      const admin = await fx.admin(c.name);
      expect((await admin.realms.findOne({ realm: fx.realm }))?.attributes?.["kcb.managed-by"]).toBe("realm-sync");
      const state = (await identitiesState(admin)) as Record<
        string,
        { client: Record<string, unknown>; realmRoles: string[]; clientRoles: Record<string, string[]> }
      >;
      for (const [kind, roles] of [
        ["apply", APPLY_ROLES],
        ["view", VIEW_ROLES],
      ] as const) {
        const id = state[ids[kind]]!;
        expect(id.client).toMatchObject({
          publicClient: false,
          serviceAccountsEnabled: true,
          standardFlowEnabled: false,
          directAccessGrantsEnabled: false,
        });
        expect(id.clientRoles).toEqual({ [`${fx.realm}-realm`]: [...roles].sort() });
        expect(id.realmRoles).toEqual(["default-roles-master"]);
        expect(readFileSync(secretFile(c.name, kind), "utf8").trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }
    }
  });

  it("a rerun changes nothing and says so; it prints no secret", async () => {
    const before = JSON.stringify(await Promise.all(domain.clusters.map(async (c) => identitiesState(await fx.admin(c.name)))));
    const rerun = await fx.run("bootstrap-identities", { env: { ...process.env, ...fx.bootstrapEnv } });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stdout.trim().split("\n")).toEqual(
      domain.clusters.flatMap((c) => [
        `cluster ${c.name}: view identity ${ids.view} (roles of ${fx.realm}-realm: ${VIEW_ROLES.join(", ")}): in place, nothing to change`,
        `cluster ${c.name}: apply identity ${ids.apply} (roles of ${fx.realm}-realm: ${APPLY_ROLES.join(", ")}): in place, nothing to change`,
      ]),
    );
    expect(JSON.stringify(await Promise.all(domain.clusters.map(async (c) => identitiesState(await fx.admin(c.name)))))).toBe(before);
    for (const c of domain.clusters)
      for (const kind of ["apply", "view"] as const)
        expect(rerun.stdout + rerun.stderr).not.toContain(readFileSync(secretFile(c.name, kind), "utf8").trim());
  });

  it("apply works with the apply identity; plan and check (extension check included) with the view identity alone", async () => {
    // Only the view identity's secrets are left to plan and check: the apply identity's files are gone meanwhile.
    expect((await fx.apply()).exitCode).toBe(0);
    const applySecrets = domain.clusters.map(
      (c) => [secretFile(c.name, "apply"), readFileSync(secretFile(c.name, "apply"), "utf8")] as const,
    );
    try {
      for (const [path] of applySecrets) writeFileSync(path, "");
      const plan = await fx.run("plan");
      expect(plan.exitCode, plan.stderr + plan.stdout).toBe(0);
      const check = await fx.run("check");
      expect(check.stdout, check.stderr).toContain("in sync and coherent");
      expect(check.exitCode).toBe(0);
    } finally {
      for (const [path, content] of applySecrets) writeFileSync(path, content);
    }
  });

  it("the view identity's token cannot write (HTTP 403) nor read the master realm's clients or the other identity's secret", async () => {
    for (const c of domain.clusters) {
      expect(await adminCall(c.name, "view", "GET", `${fx.realm}/clients`)).toBe(200);
      expect(await adminCall(c.name, "view", "POST", `${fx.realm}/clients`, { clientId: "planted", publicClient: true })).toBe(403);
      expect(await adminCall(c.name, "view", "PUT", fx.realm, { accessTokenLifespan: 86400 })).toBe(403);
      expect(
        await adminCall(c.name, "view", "POST", `${fx.realm}/identity-provider/instances`, {
          alias: "planted",
          providerId: "oidc",
          config: {},
        }),
      ).toBe(403);
      expect(
        await adminCall(c.name, "view", "POST", `${fx.realm}/components`, {
          name: "planted",
          providerId: "rsa-generated",
          providerType: "org.keycloak.keys.KeyProvider",
        }),
      ).toBe(403);
      const [applyClient] = await (await fx.admin(c.name)).clients.find({ realm: "master", clientId: ids.apply });
      expect(await adminCall(c.name, "view", "GET", `master/clients/${applyClient!.id!}/client-secret`)).toBe(403);
      expect(await adminCall(c.name, "view", "GET", "master/clients")).toBe(403);
    }
  });

  it("the apply identity's token reaches nothing outside its realm: not the master realm's users or clients, not its own roles, not another realm, no new realm", async () => {
    for (const c of domain.clusters) {
      const admin = await fx.admin(c.name);
      const [applyClient] = await admin.clients.find({ realm: "master", clientId: ids.apply });
      const applyUser = await admin.clients.getServiceAccountUser({ realm: "master", id: applyClient!.id! });
      const [adminRole] = (await admin.roles.find({ realm: "master" })).filter((r) => r.name === "admin");
      expect(
        await adminCall(c.name, "apply", "POST", `${fx.realm}/clients`, {
          clientId: `allowed-${randomBytes(3).toString("hex")}`,
          publicClient: true,
        }),
      ).toBe(201);
      expect(await adminCall(c.name, "apply", "GET", "master/users")).toBe(403);
      expect(await adminCall(c.name, "apply", "GET", "master/clients")).toBe(403);
      expect(await adminCall(c.name, "apply", "POST", "master/clients", { clientId: "planted", publicClient: true })).toBe(403);
      expect(
        await adminCall(c.name, "apply", "POST", `master/users/${applyUser.id!}/role-mappings/realm`, [
          { id: adminRole!.id, name: "admin" },
        ]),
      ).toBe(403);
      expect(await adminCall(c.name, "apply", "GET", `${OTHER_REALM}/clients`)).toBe(403);
      expect(await adminCall(c.name, "apply", "POST", `${OTHER_REALM}/clients`, { clientId: "planted", publicClient: true })).toBe(403);
      expect(await adminCall(c.name, "apply", "POST", "", { realm: `planted-${randomBytes(3).toString("hex")}`, enabled: true })).toBe(403);
    }
    // The clients the test made are not realm-sync's: apply leaves them, plan still shows nothing to do.
    expect((await fx.run("plan")).exitCode).toBe(0);
  });

  it("puts back roles granted by hand and rotates a secret: the new value works, the old one is refused", async () => {
    const admin = await fx.admin("eu");
    const [viewClient] = await admin.clients.find({ realm: "master", clientId: ids.view });
    const viewUser = await admin.clients.getServiceAccountUser({ realm: "master", id: viewClient!.id! });
    const [adminRole] = (await admin.roles.find({ realm: "master" })).filter((r) => r.name === "admin");
    await admin.users.addRealmRoleMappings({ realm: "master", id: viewUser.id!, roles: [{ id: adminRole!.id!, name: "admin" }] });

    const old = readFileSync(secretFile("eu", "view"), "utf8").trim();
    const rotated = randomBytes(32).toString("base64url");
    recordSecret("client-secret", rotated);
    writeFileSync(secretFile("eu", "view"), `${rotated}\n`, { mode: 0o600 });

    const rerun = await fx.run("bootstrap-identities", { env: { ...process.env, ...fx.bootstrapEnv }, cluster: ["eu"] });
    expect(rerun.exitCode, rerun.stderr).toBe(0);
    expect(rerun.stdout).toContain(
      `cluster eu: view identity ${ids.view} (roles of ${fx.realm}-realm: ${VIEW_ROLES.join(", ")}): secret set to the configured one; revoked realm roles: admin`,
    );
    expect(rerun.stdout).not.toContain("cluster us");
    expect((await identityToken("eu", "view", old)).status).toBe(401);
    expect((await identityToken("eu", "view")).status).toBe(200);
    expect(await adminCall("eu", "view", "GET", "master/users")).toBe(403);
    expect((await fx.run("plan")).exitCode).toBe(0);
  });
});
