/**
 * Drift that widens access, made by hand through the admin API of one cluster of the real trust
 * domain: a managed client gains grants (standard flow, direct access, implicit, device, CIBA,
 * standard token exchange, JWT authorization grant, authorization services), a service account
 * gains roles, and other objects emit managed workloads' `sub` (another client's hardcoded mapper,
 * another client's service account user and an imported user whose ids are managed subjects). `check`
 * and `plan` exit 3 naming cluster and object; `apply` reverts what realm-sync manages, leaves the
 * foreign objects and fails naming them; once they are removed by hand, all is in sync.
 */
import { randomBytes } from "node:crypto";
import type KcAdminClient from "@keycloak/keycloak-admin-client";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { GRANT_ATTRIBUTES } from "../../admin-scripts/desired/grants.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

const domain = inject("trustDomain");
const [EU, US] = domain.clusters.map((c) => c.name) as [string, string];
const ORDERS_SECRET = randomClientSecret();
const BATCH_SECRET = randomClientSecret();
const IMPOSTER_SECRET = randomBytes(24).toString("base64url");

let fx: RealmFixture;
let eu: KcAdminClient;
async function clientNamed(admin: KcAdminClient, clientId: string) {
  const [client] = await admin.clients.find({ clientId });
  if (!client?.id) throw new Error(`no client ${clientId}`);
  return client as typeof client & { id: string };
}

/** The direct role mappings of a client's service account, as `role` / `client/role`. */
async function serviceAccountRoles(admin: KcAdminClient, clientId: string): Promise<string[]> {
  const user = await admin.clients.getServiceAccountUser({ id: (await clientNamed(admin, clientId)).id });
  const mappings = await admin.users.listRoleMappings({ id: user.id! });
  const clientRoles = Object.values(
    (mappings.clientMappings ?? {}) as Record<string, { client: string; mappings: Array<{ name: string }> }>,
  ).flatMap((m) => m.mappings.map((r) => `${m.client}/${r.name}`));
  return [...(mappings.realmMappings ?? []).map((r) => r.name!), ...clientRoles].sort();
}

beforeAll(async () => {
  fx = await createRealmFixture({
    domain,
    prefix: "widen",
    files: { "orders.secret": ORDERS_SECRET, "batch.secret": BATCH_SECRET },
    workloads: [
      {
        name: "orders",
        subject: "workload:orders",
        authentication: { clientSecret: { file: "orders.secret" } },
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
  await fx.apply();
  eu = await fx.admin(EU);
});

afterAll(async () => {
  await fx?.remove();
});

describe("drift that widens access", () => {
  it("every kind, made by hand on one cluster, makes check and plan exit 3 naming the cluster and each object", async () => {
    // A managed client gains every grant realm-sync does not set.
    const orders = await clientNamed(eu, "orders");
    const grants = Object.fromEntries(Object.values(GRANT_ATTRIBUTES).map((key) => [key, "true"]));
    await eu.clients.update(
      { id: orders.id },
      {
        ...orders,
        standardFlowEnabled: true,
        directAccessGrantsEnabled: true,
        implicitFlowEnabled: true,
        redirectUris: ["https://app.example/*"],
        attributes: { ...orders.attributes, ...grants },
      },
    );
    const batch = await clientNamed(eu, "batch");
    await eu.clients.update({ id: batch.id }, { ...batch, authorizationServicesEnabled: true });
    const edited = await clientNamed(eu, "orders");
    for (const key of Object.values(GRANT_ATTRIBUTES)) expect(edited.attributes?.[key], key).toBe("true");
    expect(edited).toMatchObject({ standardFlowEnabled: true, directAccessGrantsEnabled: true, implicitFlowEnabled: true });
    expect((await clientNamed(eu, "batch")).authorizationServicesEnabled).toBe(true);

    // A managed service account gains a realm role and an admin role of the realm (authorization services gave it uma_protection).
    const batchUser = await eu.clients.getServiceAccountUser({ id: batch.id });
    const offline = await eu.roles.findOneByName({ name: "offline_access" });
    await eu.users.addRealmRoleMappings({ id: batchUser.id!, roles: [{ id: offline!.id!, name: offline!.name! }] });
    const management = await clientNamed(eu, "realm-management");
    const viewUsers = await eu.clients.findRole({ id: management.id, roleName: "view-users" });
    await eu.users.addClientRoleMappings({
      id: batchUser.id!,
      clientUniqueId: management.id,
      roles: [{ id: viewUsers!.id!, name: viewUsers!.name! }],
    });

    // Another client with a hardcoded sub of a managed workload.
    await eu.clients.create({
      clientId: "imposter",
      publicClient: false,
      serviceAccountsEnabled: true,
      standardFlowEnabled: false,
      secret: IMPOSTER_SECRET,
      protocolMappers: [
        {
          name: "sub",
          protocol: "openid-connect",
          protocolMapper: "oidc-hardcoded-claim-mapper",
          config: { "claim.name": "sub", "claim.value": "workload:orders", "jsonType.label": "String", "access.token.claim": "true" },
        },
      ],
    });
    // Another client whose service account has a managed subject as its id, and a user likewise (imported with their ids).
    await eu.realms.partialImport({
      realm: fx.realm,
      rep: {
        ifResourceExists: "FAIL",
        clients: [
          {
            clientId: "imposter-sa",
            publicClient: false,
            serviceAccountsEnabled: false,
            standardFlowEnabled: false,
            secret: IMPOSTER_SECRET,
          },
        ],
        users: [
          { id: "workload:batch", username: "service-account-imposter-sa", enabled: true, serviceAccountClientId: "imposter-sa" },
          { id: "workload:orders", username: "imported-orders", enabled: true },
        ],
      },
    });
    const imposterSa = await clientNamed(eu, "imposter-sa");
    await eu.clients.update({ id: imposterSa.id }, { ...imposterSa, serviceAccountsEnabled: true });

    // Not hypothetical: both foreign clients get tokens with managed subjects from the real server.
    for (const [clientId, sub] of [
      ["imposter", "workload:orders"],
      ["imposter-sa", "workload:batch"],
    ]) {
      const res = await fetch(fx.tokenEndpoint(EU), {
        method: "POST",
        body: new URLSearchParams({ grant_type: "client_credentials", client_id: clientId!, client_secret: IMPOSTER_SECRET }),
      });
      const body = (await res.json()) as { access_token?: string };
      expect(decodeJwt(body.access_token ?? "").sub, clientId).toBe(sub);
    }

    const check = await fx.run("check");
    expect(check.exitCode, check.stderr).toBe(3);
    const drift = check.stdout;
    expect(drift).toContain(`drift: ${EU} (`);
    expect(drift).not.toContain(`drift: ${US} (`);
    for (const line of [
      "~ client orders",
      "standardFlowEnabled: true → false",
      "directAccessGrantsEnabled: true → false",
      "implicitFlowEnabled: true → false",
      ...Object.values(GRANT_ATTRIBUTES).map((key) => `attributes[${JSON.stringify(key)}]: "true" → "false"`),
      "~ client batch",
      "authorizationServicesEnabled: true → false",
      'serviceAccountRoles: ["batch/uma_protection","offline_access","realm-management/view-users"] → []',
      'x client imposter  (mapper "sub" sets sub to "workload:orders"',
      'x user service-account-imposter-sa  (its id is "workload:batch"',
      'x user imported-orders  (its id is "workload:orders"',
    ]) {
      expect(drift).toContain(line);
    }

    const plan = await fx.run("plan");
    expect(plan.exitCode).toBe(3);
    expect(plan.stdout).toContain(`${EU} (`);
    expect(plan.stdout).toContain("2 to update, 0 to delete, 3 to remove by hand");
    expect(plan.stdout).toContain('serviceAccountRoles: ["batch/uma_protection","offline_access","realm-management/view-users"] → []');
  });

  it("apply (with the apply identity bootstrap-identities made) reverts what realm-sync manages, never touches the foreign objects, and fails naming them", async () => {
    const applied = await fx.run("apply");
    expect(applied.exitCode).toBe(1);
    expect(applied.stderr).toContain(
      `cluster ${EU}: 0 change(s) failed; still pending: foreign client imposter, foreign user imported-orders, foreign user service-account-imposter-sa`,
    );

    const orders = await clientNamed(eu, "orders");
    expect(orders).toMatchObject({ standardFlowEnabled: false, directAccessGrantsEnabled: false, implicitFlowEnabled: false });
    for (const key of Object.values(GRANT_ATTRIBUTES)) expect(orders.attributes?.[key], key).toBe("false");
    expect((await clientNamed(eu, "batch")).authorizationServicesEnabled ?? false).toBe(false);
    expect(await serviceAccountRoles(eu, "batch")).toEqual([`default-roles-${fx.realm}`]);
    // The foreign objects are as they were.
    expect((await clientNamed(eu, "imposter")).protocolMappers?.map((m) => String(m.config?.["claim.value"]))).toEqual(["workload:orders"]);
    expect((await eu.users.findOne({ id: "workload:orders" }))?.username).toBe("imported-orders");

    const check = await fx.run("check");
    expect(check.exitCode).toBe(3);
    expect(check.stdout).not.toContain("~ client");
  });

  it("once the foreign objects are removed by hand, check and apply find every cluster in sync", async () => {
    for (const clientId of ["imposter", "imposter-sa"]) await eu.clients.del({ id: (await clientNamed(eu, clientId)).id });
    await eu.users.del({ id: "workload:orders" });
    const check = await fx.run("check");
    expect(check.exitCode, check.stdout).toBe(0);
    expect((await fx.run("apply")).exitCode).toBe(0);
  });
});
