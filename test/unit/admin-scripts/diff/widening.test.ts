/**
 * Drift that widens access: a managed client gaining a grant or a service-account role realm-sync
 * does not set is an update that reverts it; anything else emitting a managed workload's `sub` is
 * a foreign change (left alone by apply, reported by plan and check).
 */
import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import type { Change } from "../../../../admin-scripts/diff/changes.ts";
import { diffCluster } from "../../../../admin-scripts/diff/diff.ts";
import { formatClusterPlan } from "../../../../admin-scripts/diff/format.ts";
import type { LiveClient, LiveMapper, LiveState } from "../../../../admin-scripts/diff/live.ts";
import { GRANT_ATTRIBUTES } from "../../../../admin-scripts/desired/grants.ts";
import type { DesiredState } from "../../../../admin-scripts/desired/types.ts";
import { desiredOf, liveOf } from "../../../support/fixtures/realm-sync.ts";

let desired: DesiredState;
let base: LiveState;
beforeAll(async () => {
  desired = await desiredOf();
  base = liveOf(desired);
});

const client = (live: LiveState, clientId: string): LiveClient => live.clients.find((c) => c.clientId === clientId)!;

function plan(arrange: (live: LiveState) => void): Change[] {
  const live = structuredClone(base);
  arrange(live);
  return diffCluster("eu", desired, live).changes;
}

function otherClient(clientId: string, mappers: LiveMapper[] = []): LiveClient {
  return {
    ...structuredClone(client(base, "legacy-etl")),
    id: randomUUID(),
    clientId,
    name: clientId,
    attributes: {},
    mappers,
    serviceAccount: undefined,
  };
}

const hardcodedSub = (value: string): LiveMapper => ({
  id: randomUUID(),
  name: "sub",
  protocolMapper: "oidc-hardcoded-claim-mapper",
  config: { "claim.name": "sub", "claim.value": value, "access.token.claim": "true" },
});

describe("a managed client's grants", () => {
  it("every grant attribute is written switched off", () => {
    for (const c of desired.clients) {
      for (const key of Object.values(GRANT_ATTRIBUTES)) expect(c.attributes[key], `${c.clientId} ${key}`).toBe("false");
    }
  });

  it.each(Object.entries(GRANT_ATTRIBUTES))("%s switched on by hand (%s) is an update back to off", (_grant, key) => {
    for (const value of ["true", "TRUE"]) {
      const changes = plan((live) => void (client(live, "payments-api").attributes[key] = value));
      expect(changes).toEqual([
        expect.objectContaining({
          op: "update",
          kind: "client",
          name: "payments-api",
          fields: [{ path: `attributes[${JSON.stringify(key)}]`, from: "true", to: "false" }],
          mappers: [],
        }),
      ]);
    }
  });

  it("an absent, empty or differently spelt off value is off, as Keycloak reads it", () => {
    for (const value of [undefined, "", "False", "no"]) {
      const changes = plan((live) => {
        for (const key of Object.values(GRANT_ATTRIBUTES)) {
          if (value === undefined) delete client(live, "payments-api").attributes[key];
          else client(live, "payments-api").attributes[key] = value;
        }
      });
      expect(changes).toEqual([]);
    }
  });

  it.each([
    ["standardFlowEnabled"],
    ["implicitFlowEnabled"],
    ["directAccessGrantsEnabled"],
    ["authorizationServicesEnabled"],
    ["publicClient"],
    ["fullScopeAllowed"],
  ] as const)("%s switched on by hand is an update back to off", (field) => {
    const changes = plan((live) => void (client(live, "legacy-etl")[field] = true));
    expect(changes).toEqual([
      expect.objectContaining({ op: "update", name: "legacy-etl", fields: [{ path: field, from: true, to: false }] }),
    ]);
  });
});

describe("a managed client's service-account roles", () => {
  it("only the realm's default role (mapped by Keycloak to every new user) is in sync", () => {
    expect(plan(() => {})).toEqual([]);
    // Its removal narrows access: nothing to do.
    expect(plan((live) => void (client(live, "legacy-etl").serviceAccount!.roles = []))).toEqual([]);
  });

  it("a realm role and a client role mapped by hand are an update that removes both, named", () => {
    const changes = plan((live) => {
      const sa = client(live, "legacy-etl").serviceAccount!;
      sa.roles.push({ id: "r1", name: "offline_access", containerId: live.realm!.id });
      sa.roles.push({ id: "r2", name: "manage-users", clientId: "realm-management", containerId: "rm-id" });
    });
    expect(changes).toEqual([
      expect.objectContaining({
        op: "update",
        name: "legacy-etl",
        fields: [{ path: "serviceAccountRoles", from: ["offline_access", "realm-management/manage-users"], to: [] }],
      }),
    ]);
  });

  it("a client role named like the default role is not the default role", () => {
    const changes = plan(
      (live) =>
        void client(live, "legacy-etl").serviceAccount!.roles.push({
          id: "r3",
          name: `default-roles-${live.realm!.realm}`,
          clientId: "hand-made",
          containerId: "hm",
        }),
    );
    expect(changes).toEqual([
      expect.objectContaining({ op: "update", fields: [expect.objectContaining({ path: "serviceAccountRoles", to: [] })] }),
    ]);
  });
});

describe("anything else emitting a managed workload's sub", () => {
  it("another client with a hardcoded sub equal to a managed subject is foreign, naming the client, the mapper and the workload", () => {
    const changes = plan((live) => void live.clients.push(otherClient("imposter", [hardcodedSub("workload:payments-api")])));
    expect(changes).toEqual([expect.objectContaining({ op: "foreign", kind: "client", name: "imposter" })]);
    const reason = changes[0]?.op === "foreign" ? changes[0].reason : "";
    expect(reason).toContain('mapper "sub"');
    expect(reason).toContain('"workload:payments-api"');
    expect(reason).toContain("payments-api");
  });

  it("a hardcoded sub that is no managed subject, and Keycloak's own sub mapper, are not", () => {
    const ownSub: LiveMapper = { id: "s", name: "sub", protocolMapper: "oidc-sub-mapper", config: { "access.token.claim": "true" } };
    expect(plan((live) => void live.clients.push(otherClient("web", [hardcodedSub("someone-else"), ownSub])))).toEqual([]);
  });

  it("a sub taken from user data on another client is foreign: realm-sync cannot rule out a managed subject", () => {
    const fromAttribute: LiveMapper = {
      id: "a",
      name: "sub from attribute",
      protocolMapper: "oidc-usermodel-attribute-mapper",
      config: { "claim.name": "sub", "user.attribute": "workload" },
    };
    const changes = plan((live) => void live.clients.push(otherClient("portal", [fromAttribute])));
    expect(changes).toEqual([
      expect.objectContaining({
        op: "foreign",
        kind: "client",
        name: "portal",
        reason: expect.stringContaining("oidc-usermodel-attribute-mapper") as unknown,
      }),
    ]);
  });

  it("a client scope realm-sync does not manage with such a mapper is foreign; on a managed scope it is a mapper to delete", () => {
    const changes = plan((live) => {
      live.clientScopes.find((s) => s.name === "profile")!.mappers.push(hardcodedSub("workload:legacy-etl"));
      live.clientScopes.find((s) => s.name === "kcb-aws")!.mappers.push(hardcodedSub("workload:legacy-etl"));
    });
    expect(changes).toEqual([
      expect.objectContaining({
        op: "update",
        kind: "clientScope",
        name: "kcb-aws",
        mappers: [expect.objectContaining({ op: "delete", name: "sub" })],
      }),
      expect.objectContaining({ op: "foreign", kind: "clientScope", name: "profile" }),
    ]);
  });

  it("a user, or another client's service account, whose id is a managed subject is foreign", () => {
    const changes = plan((live) => {
      live.subjectUsers.push({ id: "workload:legacy-etl", username: "imported-user" });
      live.subjectUsers.push({ id: "workload:payments-api", username: "service-account-imposter" });
    });
    expect(changes).toEqual([
      expect.objectContaining({
        op: "foreign",
        kind: "user",
        name: "imported-user",
        reason: expect.stringContaining('"workload:legacy-etl", the subject of legacy-etl') as unknown,
      }),
      expect.objectContaining({
        op: "foreign",
        kind: "user",
        name: "service-account-imposter",
        reason: expect.stringContaining('"workload:payments-api", the subject of payments-api') as unknown,
      }),
    ]);
  });

  it("a managed client's own mappers are not foreign", () => {
    expect(
      plan(
        (live) =>
          void live.clients.push({
            ...otherClient("retired", [hardcodedSub("workload:payments-api")]),
            attributes: { "kcb.managed-by": "realm-sync" },
          }),
      ),
    ).toEqual([expect.objectContaining({ op: "delete", kind: "client", name: "retired" })]);
  });
});

describe("the server's token exchange", () => {
  it("the legacy token exchange (v1) enabled is foreign; the standard one (v2) is per client", () => {
    expect(plan((live) => void (live.server = { enabledFeatures: ["TOKEN_EXCHANGE_STANDARD_V2", "CLIENT_AUTH_FEDERATED"] }))).toEqual([]);
    expect(plan((live) => void (live.server = { enabledFeatures: ["TOKEN_EXCHANGE", "ADMIN_FINE_GRAINED_AUTHZ"] }))).toEqual([
      expect.objectContaining({
        op: "foreign",
        kind: "realm",
        name: "unit",
        reason: expect.stringContaining("token-exchange, v1") as unknown,
      }),
    ]);
  });
});

describe("the plan text", () => {
  it("names the cluster, each object and why, and counts what must be removed by hand", () => {
    const live = structuredClone(base);
    client(live, "payments-api").attributes[GRANT_ATTRIBUTES.device] = "true";
    live.clients.push(otherClient("imposter", [hardcodedSub("workload:payments-api")]));
    const text = formatClusterPlan(diffCluster("eu", desired, live));
    expect(text).toContain("eu (realm unit): 0 to create, 1 to update, 0 to delete, 1 to remove by hand");
    expect(text).toContain('~ client payments-api\n      attributes["oauth2.device.authorization.grant.enabled"]: "true" → "false"');
    expect(text).toMatch(/x client imposter {2}\(mapper "sub" sets sub to "workload:payments-api"/);
  });
});
