import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { SENSITIVE, type Change, type ClusterPlan } from "../../../../admin-scripts/diff/changes.ts";
import { diffCluster } from "../../../../admin-scripts/diff/diff.ts";
import { EMPTY_LIVE_STATE, type LiveClient, type LiveState } from "../../../../admin-scripts/diff/live.ts";
import { kubernetesIdpAlias, LOCK_CLIENT_ID } from "../../../../admin-scripts/desired/names.ts";
import type { DesiredState } from "../../../../admin-scripts/desired/types.ts";
import { desiredOf, liveOf, SECRETS, trustDomain } from "../../../support/fixtures/realm-sync.ts";

/** `~ client legacy-etl [secret] [~mapper kcb-sub]`: a plan in one line per change. */
function compact(plan: ClusterPlan): string[] {
  return plan.changes.map((c: Change) => {
    const sym = { create: "+", update: "~", delete: "-", conflict: "!", foreign: "x" }[c.op];
    const head = `${sym} ${c.kind} ${c.name}`;
    if (c.op !== "update") return head;
    const parts = [
      ...c.fields.map((f) => f.path),
      ...c.mappers.map((m) => `${{ create: "+", update: "~", delete: "-" }[m.op]}mapper ${m.name}`),
    ];
    return `${head} [${parts.join(", ")}]`;
  });
}

const clone = <T>(v: T): T => structuredClone(v);
const client = (live: LiveState, clientId: string): LiveClient => live.clients.find((c) => c.clientId === clientId)!;

function handMadeClient(clientId: string, attributes: Record<string, string> = {}): LiveClient {
  return {
    id: randomUUID(),
    clientId,
    name: clientId,
    description: "",
    enabled: true,
    protocol: "openid-connect",
    publicClient: true,
    bearerOnly: false,
    consentRequired: false,
    serviceAccountsEnabled: false,
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    authorizationServicesEnabled: false,
    fullScopeAllowed: true,
    clientAuthenticatorType: "client-secret",
    secret: undefined,
    attributes,
    defaultClientScopes: ["profile"],
    optionalClientScopes: [],
    mappers: [],
  };
}

let desired: DesiredState;
let base: LiveState;
beforeAll(async () => {
  desired = await desiredOf();
  base = liveOf(desired);
});

interface Case {
  name: string;
  /** Changes the live state (and/or the desired state) from "in sync". */
  arrange: (live: LiveState, want: DesiredState) => void;
  expected: string[];
}

const cases: Case[] = [
  { name: "in sync: Keycloak's own extras (attributes, HMAC/AES keys, built-in scopes) are ignored", arrange: () => {}, expected: [] },
  {
    name: "a client made by hand is invisible",
    arrange: (live) => void live.clients.push(handMadeClient("hand-made")),
    expected: [],
  },
  {
    name: "a client made by hand with a workload's name is a conflict, never adopted",
    arrange: (live) => {
      live.clients = live.clients.filter((c) => c.clientId !== "legacy-etl");
      live.clients.push(handMadeClient("legacy-etl"));
    },
    expected: ["! client legacy-etl"],
  },
  {
    name: "a managed client no longer in the config is deleted",
    arrange: (live) => void live.clients.push({ ...handMadeClient("retired"), attributes: { "kcb.managed-by": "realm-sync" } }),
    expected: ["- client retired"],
  },
  {
    name: "a missing workload client is created",
    arrange: (live) => void (live.clients = live.clients.filter((c) => c.clientId !== "payments-api")),
    expected: ["+ client payments-api"],
  },
  {
    name: "a changed subject updates only the sub mapper",
    arrange: (live) =>
      void (client(live, "payments-api").mappers.find((m) => m.name === "kcb-sub")!.config["claim.value"] = "workload:old"),
    expected: ["~ client payments-api [~mapper kcb-sub]"],
  },
  {
    name: "a mapper added by hand to a managed client is removed",
    arrange: (live) =>
      void client(live, "legacy-etl").mappers.push({
        id: "m1",
        name: "extra",
        protocolMapper: "oidc-hardcoded-claim-mapper",
        config: { "claim.name": "x" },
      }),
    expected: ["~ client legacy-etl [-mapper extra]"],
  },
  {
    name: "a removed session-tags mapper is recreated",
    arrange: (live) =>
      void (client(live, "payments-api").mappers = client(live, "payments-api").mappers.filter((m) => m.name !== "kcb-aws-session-tags")),
    expected: ["~ client payments-api [+mapper kcb-aws-session-tags]"],
  },
  {
    name: "a field changed by hand is reported down to the field",
    arrange: (live) => {
      client(live, "reporting-batch").directAccessGrantsEnabled = true;
      client(live, "reporting-batch").attributes["jwt.credential.kid"] = "hand-edited";
    },
    expected: ['~ client reporting-batch [directAccessGrantsEnabled, attributes["jwt.credential.kid"]]'],
  },
  {
    name: "an attribute of another authentication method set by hand is cleared",
    arrange: (live) => void (client(live, "legacy-etl").attributes["jwks.url"] = "https://evil.example/jwks"),
    expected: ['~ client legacy-etl [attributes["jwks.url"]]'],
  },
  {
    name: "a changed client secret is an update (value hidden)",
    arrange: (live) => void (client(live, "legacy-etl").secret = "rotated-by-hand"),
    expected: ["~ client legacy-etl [secret]"],
  },
  {
    name: "a removed optional scope link is restored; listing order does not matter",
    arrange: (live) => void (client(live, "payments-api").optionalClientScopes = []),
    expected: ["~ client payments-api [optionalClientScopes]"],
  },
  {
    name: "keys Keycloak generated (different per cluster) are removed; HMAC/AES stay",
    arrange: (live) => {
      live.keys.push({ id: "g1", name: "rsa-generated", providerId: "rsa-generated", config: { priority: ["100"] } });
      live.keys.push({ id: "g2", name: "fallback-RSA-OAEP", providerId: "rsa-enc-generated", config: {} });
    },
    expected: ["- key fallback-RSA-OAEP", "- key rsa-generated"],
  },
  {
    name: "an RSA key imported by hand (no realm-sync certificate) is left alone",
    arrange: (live) =>
      void live.keys.push({ id: "h1", name: "key-1", providerId: "rsa", config: { certificate: ["MIIB"], active: ["true"] } }),
    expected: [],
  },
  {
    name: "a server that loaded another key than the committed certificate is drift, down to the field",
    arrange: (live) => void (live.keys[0]!.loaded = { kid: live.keys[0]!.loaded!.kid, certificate: "MIIBother" }),
    expected: ["~ key key-1 [loaded.certificate]"],
  },
  {
    name: "a keystore the server could not load (no key published by the provider) is drift",
    arrange: (live) => void delete live.keys[0]!.loaded,
    expected: ["~ key key-1 [loaded.kid, loaded.certificate]"],
  },
  {
    name: "a vault reference replaced by a plain password is drift",
    arrange: (live) => void (live.keys[0]!.config.keystorePassword = ["**********"]),
    expected: ['~ key key-1 [config["keystorePassword"]]'],
  },
  {
    name: "a key demoted to passive is updated in place",
    arrange: (_live, want) => {
      want.keys[0] = { ...want.keys[0]!, active: false, priority: 100 };
    },
    expected: ['~ key key-1 [config["active"], config["priority"]]'],
  },
  {
    name: "a duplicate managed key (an earlier apply killed midway) is removed",
    arrange: (live) => void live.keys.push({ ...clone(live.keys[0]!), id: "dup" }),
    expected: ["- key key-1"],
  },
  {
    name: "a managed scope changed by hand is repaired field by field",
    arrange: (live) => void (live.clientScopes.find((s) => s.name === "kcb-aws")!.mappers[0]!.config["claim.value"] = "sts.evil.example"),
    expected: ["~ clientScope kcb-aws [~mapper kcb-audience]"],
  },
  {
    name: "an unmanaged scope with a reserved name is a conflict",
    arrange: (live) => void (live.clientScopes.find((s) => s.name === "kcb-azure")!.attributes = {}),
    expected: ["! clientScope kcb-azure"],
  },
  {
    name: "a managed identity provider whose issuer changed is updated",
    arrange: (live) => void (live.identityProviders[0]!.config.issuer = "https://old-k8s.example"),
    expected: [`~ identityProvider ${kubernetesIdpAlias("https://k8s.example")} [config["issuer"]]`],
  },
  {
    name: "realm settings drift: token lifespan",
    arrange: (live) => void (live.realm!.accessTokenLifespan = 60),
    expected: ["~ realm unit [accessTokenLifespan]"],
  },
  {
    name: "the apply lock client is never planned",
    arrange: (live) => void live.clients.push({ ...handMadeClient(LOCK_CLIENT_ID), attributes: { "kcb.managed-by": "realm-sync" } }),
    expected: [],
  },
];

describe("diffCluster", () => {
  it.each(cases)("$name", ({ arrange, expected }) => {
    const live = clone(base);
    const want = clone(desired);
    arrange(live, want);
    expect(compact(diffCluster("eu", want, live))).toEqual(expected);
  });

  it("plans the realm and everything in it when the realm does not exist", () => {
    const plan = diffCluster("eu", desired, EMPTY_LIVE_STATE);
    expect(compact(plan)).toEqual([
      "+ realm unit",
      "+ key key-1",
      "+ clientScope kcb-aws",
      "+ clientScope kcb-azure",
      "+ clientScope kcb-agents",
      `+ identityProvider ${kubernetesIdpAlias("https://k8s.example")}`,
      "+ client payments-api",
      "+ client reporting-batch",
      "+ client legacy-etl",
    ]);
  });

  it("a realm realm-sync did not create is one conflict and nothing else", () => {
    const live = clone(base);
    live.realm!.attributes = {};
    const plan = diffCluster("eu", desired, live);
    expect(plan.changes).toEqual([expect.objectContaining({ op: "conflict", kind: "realm", name: "unit" })]);
  });

  it("never puts a secret value in a plan", () => {
    const live = clone(base);
    client(live, "legacy-etl").secret = "old-secret";
    const plans = [diffCluster("eu", desired, EMPTY_LIVE_STATE), diffCluster("eu", desired, live)];
    const text = JSON.stringify(plans);
    expect(text).not.toContain(SECRETS.LEGACY_SECRET);
    expect(text).not.toContain("old-secret");
    expect(text).not.toContain("PRIVATE KEY");
    expect(text).toContain(SENSITIVE);
  });

  it("reports field-level from/to values", () => {
    const live = clone(base);
    live.realm!.accessTokenLifespan = 60;
    const [change] = diffCluster("eu", desired, live).changes;
    expect(change).toMatchObject({ op: "update", kind: "realm", fields: [{ path: "accessTokenLifespan", from: 60, to: 600 }] });
  });

  it("switching a workload's authentication method clears the old method's attributes", async () => {
    const td = trustDomain();
    const switched = await desiredOf({
      ...td,
      workloads: td.workloads.map((w) =>
        w.name === "legacy-etl" ? { ...w, authentication: { privateKeyJwt: { jwksUrl: "https://jobs.example/jwks" } } } : w,
      ),
    });
    const live = liveOf(desired);
    const change = diffCluster("eu", switched, live).changes.find((c) => c.name === "legacy-etl");
    expect(change).toMatchObject({ op: "update" });
    const paths = change?.op === "update" ? change.fields.map((f) => [f.path, f.to]) : [];
    expect(paths).toEqual([
      ["clientAuthenticatorType", "client-jwt"],
      ['attributes["use.jwks.url"]', "true"],
      ['attributes["jwks.url"]', "https://jobs.example/jwks"],
    ]);
  });
});
