import { describe, expect, it } from "vitest";
import {
  APPLY_ROLES,
  desiredIdentities,
  IDENTITY_ATTRIBUTE,
  VIEW_ROLES,
  type DesiredIdentity,
} from "../../../../admin-scripts/desired/identities.ts";
import {
  describeSteps,
  IDENTITY_CLIENT_FIELDS,
  identitySteps,
  refusal,
  type LiveIdentity,
} from "../../../../admin-scripts/diff/identities.ts";
import { formatPath } from "../../../../realm-config/model/path.ts";
import { trustDomain } from "../../../support/fixtures/realm-sync.ts";

const view: DesiredIdentity = {
  kind: "view",
  clientId: "rs-view",
  clientSecret: { env: "V" },
  path: ["clusters", 0, "auth", "view"],
  roles: VIEW_ROLES,
};
const apply: DesiredIdentity = {
  kind: "apply",
  clientId: "rs-apply",
  clientSecret: { env: "A" },
  path: ["clusters", 0, "auth", "apply"],
  roles: APPLY_ROLES,
};

function live(overrides: Partial<LiveIdentity> = {}): LiveIdentity {
  return {
    client: { clientId: "rs-view", ...IDENTITY_CLIENT_FIELDS, attributes: { [IDENTITY_ATTRIBUTE]: "unit/view" } },
    secretMatches: true,
    realmRoles: ["default-roles-master"],
    clientRoles: { "unit-realm": [...VIEW_ROLES] },
    ...overrides,
  };
}

describe("realm-sync's identities: role sets", () => {
  it("the view identity holds only view roles; the apply identity the view and four manage roles of the one realm (no realm-admin, create-realm, impersonation or events)", () => {
    expect(VIEW_ROLES).toEqual(["view-realm", "view-clients", "view-identity-providers", "view-users"]);
    expect(VIEW_ROLES.every((r) => r.startsWith("view-"))).toBe(true);
    expect(APPLY_ROLES).toEqual([...VIEW_ROLES, "manage-realm", "manage-clients", "manage-identity-providers", "manage-users"]);
    for (const roles of [VIEW_ROLES, APPLY_ROLES])
      for (const r of ["admin", "realm-admin", "create-realm", "impersonation", "manage-authorization", "manage-events", "query-realms"])
        expect(roles).not.toContain(r);
    expect(VIEW_ROLES.filter((r) => r.startsWith("manage-"))).toEqual([]);
  });
});

describe("desiredIdentities", () => {
  const split = (a: unknown, v: unknown) =>
    trustDomain({ clusters: [{ name: "eu", adminUrl: "https://kc-eu.example", auth: { apply: a, view: v } }] });

  it("names both identities with their roles and config paths", () => {
    const config = split(
      { clientId: "rs-apply", clientSecret: { env: "A" } },
      { clientId: "rs-view", clientSecret: { file: "view.secret" } },
    );
    const { identities, problems } = desiredIdentities(config, 0);
    expect(problems).toEqual([]);
    expect(identities.map((i) => [i.kind, i.clientId, formatPath(i.path), i.roles])).toEqual([
      ["view", "rs-view", "clusters[0].auth.view", VIEW_ROLES],
      ["apply", "rs-apply", "clusters[0].auth.apply", APPLY_ROLES],
    ]);
  });

  it.each([
    ["one identity for every command", trustDomain(), "clusters[0].auth", /write it as \{ apply/],
    [
      "a username identity",
      split({ username: "admin", password: { env: "P" } }, { clientId: "rs-view", clientSecret: { env: "V" } }),
      "clusters[0].auth.apply",
      /bootstrap admin's/,
    ],
    [
      "one client for both",
      split({ clientId: "rs", clientSecret: { env: "A" } }, { clientId: "rs", clientSecret: { env: "V" } }),
      "clusters[0].auth.apply.clientId",
      /must be two clients/,
    ],
    [
      "Keycloak's management client",
      split({ clientId: "unit-realm", clientSecret: { env: "A" } }, { clientId: "rs-view", clientSecret: { env: "V" } }),
      "clusters[0].auth.apply.clientId",
      /realm-management client/,
    ],
  ])("refuses %s, naming the field", (_, config, path, message) => {
    const { identities, problems } = desiredIdentities(config, 0);
    expect(identities).toEqual([]);
    expect(problems.map((p) => formatPath(p.path))).toEqual([path]);
    expect(problems[0]!.message).toMatch(message);
  });
});

describe("identitySteps", () => {
  it("creates a missing identity and grants exactly its roles", () => {
    expect(identitySteps("unit", apply, undefined)).toEqual([{ op: "create" }, { op: "grant", client: "unit-realm", roles: APPLY_ROLES }]);
  });

  it("changes nothing when the identity is in place (a rerun is a no-op)", () => {
    expect(identitySteps("unit", view, live())).toEqual([]);
    expect(describeSteps([])).toBe("in place, nothing to change");
  });

  it("puts back what was changed by hand: settings, secret, missing roles; revokes every other role", () => {
    const steps = identitySteps(
      "unit",
      view,
      live({
        client: { ...live().client, directAccessGrantsEnabled: true, publicClient: true },
        secretMatches: false,
        realmRoles: ["default-roles-master", "admin", "create-realm"],
        clientRoles: { "unit-realm": ["view-realm", "manage-users"], "master-realm": ["view-users"], "other-realm": ["manage-clients"] },
      }),
    );
    expect(steps).toEqual([
      { op: "update-client", fields: ["publicClient", "directAccessGrantsEnabled"] },
      { op: "set-secret" },
      { op: "grant", client: "unit-realm", roles: ["view-clients", "view-identity-providers", "view-users"] },
      { op: "revoke", client: "master-realm", roles: ["view-users"] },
      { op: "revoke", client: "other-realm", roles: ["manage-clients"] },
      { op: "revoke", client: "unit-realm", roles: ["manage-users"] },
      { op: "revoke-realm-roles", roles: ["admin", "create-realm"] },
    ]);
    const text = describeSteps(steps);
    expect(text).toContain("secret set to the configured one");
    expect(text).toContain("revoked realm roles: admin, create-realm");
  });

  it.each([
    ["a client made by hand", {}, /was not created by bootstrap-identities/],
    ["another realm's identity", { [IDENTITY_ATTRIBUTE]: "prod/view" }, /view identity of realm prod/],
    ["this realm's other identity", { [IDENTITY_ATTRIBUTE]: "unit/apply" }, /apply identity of realm unit/],
  ])("refuses to take over %s", (_, attributes, message) => {
    expect(refusal("unit", view, live({ client: { clientId: "rs-view", attributes } }))).toMatch(message);
  });

  it("takes over nothing but its own client", () => {
    expect(refusal("unit", view, live())).toBeUndefined();
  });
});
