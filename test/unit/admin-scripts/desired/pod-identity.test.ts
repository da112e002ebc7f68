/**
 * realm-sync's desired state and diff for per-pod identity: the extension's provider per declared
 * issuer, its mapper on the workload clients that authenticate through it, drift on both, and the
 * server-info check that refuses a cluster without the extension.
 */
import { describe, expect, it } from "vitest";
import { EXTENSION_VERSION, REQUIRED_EXTENSION } from "../../../../admin-scripts/desired/pod-identity.ts";
import { diffCluster } from "../../../../admin-scripts/diff/diff.ts";
import { extensionProblem, type ServerProviders } from "../../../../admin-scripts/diff/extension.ts";
import { EXIT, EXIT_CODES } from "../../../../admin-scripts/errors.ts";
import pkg from "../../../../package.json" with { type: "json" };
import { desiredOf, liveOf, trustDomain } from "../../../support/fixtures/realm-sync.ts";

const declared = (extra: Record<string, unknown> = {}) =>
  trustDomain({
    kubernetesIssuers: [{ issuer: "https://k8s.example", clusterName: "eu-1", transitiveTagKeys: ["kubernetes-namespace"], ...extra }],
  });

describe("desired state with a declared Kubernetes issuer", () => {
  it("uses the extension's kubernetes-pod provider with the cluster name and pod binding, and needs the extension of this version", async () => {
    const d = await desiredOf(declared());
    expect(d.identityProviders).toHaveLength(1);
    const idp = d.identityProviders[0]!;
    expect(idp.providerId).toBe("kubernetes-pod");
    expect(idp.config).toMatchObject({ issuer: "https://k8s.example", clusterName: "eu-1", requirePodBinding: "true" });
    expect(d.extension).toEqual(REQUIRED_EXTENSION);
    expect(EXTENSION_VERSION).toBe(pkg.version);
  });

  it("puts the pod mapper after the static tags on the Kubernetes workload only, every config key written", async () => {
    const d = await desiredOf(
      declared({ sessionTags: { namespace: "ns", podName: "pod" }, plainClaims: false, transitiveTagKeys: ["ns"] }),
    );
    const payments = d.clients.find((c) => c.clientId === "payments-api")!;
    expect(payments.mappers.map((m) => m.name)).toEqual(["kcb-sub", "kcb-aws-session-tags", "kcb-pod-identity"]);
    expect(payments.mappers[2]).toEqual({
      name: "kcb-pod-identity",
      protocolMapper: "oidc-kubernetes-pod-mapper",
      config: {
        "tag.namespace": "ns",
        "tag.service-account": "",
        "tag.pod-name": "pod",
        "tag.pod-uid": "",
        "tag.cluster-name": "",
        "transitive.tag.keys": "ns",
        "plain.claims": "false",
        "access.token.claim": "true",
        "id.token.claim": "false",
        "userinfo.token.claim": "false",
        "introspection.token.claim": "false",
      },
    });
    for (const c of d.clients.filter((c) => c.clientId !== "payments-api"))
      expect(c.mappers.map((m) => m.protocolMapper)).not.toContain("oidc-kubernetes-pod-mapper");
  });

  it("keeps Keycloak's own kubernetes provider, no mapper and no extension for an undeclared issuer", async () => {
    const d = await desiredOf();
    expect(d.identityProviders.map((p) => p.providerId)).toEqual(["kubernetes"]);
    expect(d.clients.flatMap((c) => c.mappers.map((m) => m.name))).not.toContain("kcb-pod-identity");
    expect(d.extension).toBeUndefined();
  });
});

describe("plan and drift", () => {
  it("plans the provider and mapper on an empty realm, and nothing once applied", async () => {
    const d = await desiredOf(declared());
    const empty = diffCluster("eu", d, { realm: null, keys: [], clientScopes: [], identityProviders: [], clients: [], subjectUsers: [] });
    const idp = empty.changes.find((c) => c.kind === "identityProvider")!;
    expect(idp.op).toBe("create");
    expect(idp.op === "create" && idp.fields).toContainEqual({ path: "providerId", to: "kubernetes-pod" });
    const client = empty.changes.find((c) => c.kind === "client" && c.name === "payments-api")!;
    expect(client.op === "create" && client.mappers.map((m) => m.name)).toContain("kcb-pod-identity");
    expect(diffCluster("eu", d, liveOf(d)).changes).toEqual([]);
  });

  it("repairs a hand-edited mapper key, a deleted mapper and a switched-off pod binding", async () => {
    const d = await desiredOf(declared());
    const live = liveOf(d);
    const payments = live.clients.find((c) => c.clientId === "payments-api")!;
    const mapper = payments.mappers.find((m) => m.name === "kcb-pod-identity")!;
    mapper.config["tag.namespace"] = "ns";
    live.identityProviders[0]!.config.requirePodBinding = "false";
    const plan = diffCluster("eu", d, live);
    expect(plan.changes).toContainEqual(
      expect.objectContaining({
        op: "update",
        kind: "client",
        name: "payments-api",
        mappers: [
          { op: "update", name: "kcb-pod-identity", fields: [{ path: 'config["tag.namespace"]', from: "ns", to: "kubernetes-namespace" }] },
        ],
      }),
    );
    expect(plan.changes).toContainEqual(
      expect.objectContaining({
        op: "update",
        kind: "identityProvider",
        fields: [{ path: 'config["requirePodBinding"]', from: "false", to: "true" }],
      }),
    );

    payments.mappers = payments.mappers.filter((m) => m.name !== "kcb-pod-identity");
    const again = diffCluster("eu", d, live).changes.find((c) => c.kind === "client")!;
    expect(again.op === "update" && again.mappers.map((m) => [m.op, m.name])).toEqual([["create", "kcb-pod-identity"]]);
  });

  it("switches an issuer from Keycloak's provider to the extension's when it is declared (a providerId change)", async () => {
    const before = liveOf(await desiredOf());
    const plan = diffCluster("eu", await desiredOf(declared()), before);
    const idp = plan.changes.find((c) => c.kind === "identityProvider")!;
    expect(idp.op === "update" && idp.fields.find((f) => f.path === "providerId")).toEqual({
      path: "providerId",
      from: "kubernetes",
      to: "kubernetes-pod",
    });
  });
});

describe("the extension check on a cluster's server info", () => {
  const installed = (version: string | undefined, drop?: string): ServerProviders => ({
    identity_provider: {
      providers: {
        kubernetes: {},
        ...(drop === "kubernetes-pod" ? {} : { "kubernetes-pod": { operationalInfo: version === undefined ? {} : { version } } }),
      },
    },
    "protocol-mapper": {
      providers: {
        ...(drop === "oidc-kubernetes-pod-mapper"
          ? {}
          : { "oidc-kubernetes-pod-mapper": { operationalInfo: version === undefined ? {} : { version } } }),
      },
    },
  });

  it("passes when both providers report this version", () => {
    expect(extensionProblem("eu", REQUIRED_EXTENSION, installed(EXTENSION_VERSION))).toBeUndefined();
  });

  it.each([
    [
      "no extension at all",
      {},
      "EXTENSION_MISSING",
      /cluster us: the Keycloak extension is not installed \(no identity_provider provider "kubernetes-pod", protocol-mapper provider "oidc-kubernetes-pod-mapper"\)/,
    ],
    [
      "only the provider",
      installed(EXTENSION_VERSION, "oidc-kubernetes-pod-mapper"),
      "EXTENSION_MISSING",
      /no protocol-mapper provider "oidc-kubernetes-pod-mapper"/,
    ],
    [
      "another version",
      installed("0.0.1"),
      "EXTENSION_VERSION_MISMATCH",
      /cluster us: .*"kubernetes-pod" is version 0\.0\.1, realm-sync needs/,
    ],
    ["no version reported", installed(undefined), "EXTENSION_VERSION_MISMATCH", /is version \(unreported\)/],
  ] as const)("refuses %s, naming the cluster", (_label, providers, code, message) => {
    const problem = extensionProblem("us", REQUIRED_EXTENSION, providers);
    expect(problem?.code).toBe(code);
    expect(problem?.message).toMatch(message);
    expect(EXIT_CODES[code]).toBe(EXIT.FAILURE);
  });
});
