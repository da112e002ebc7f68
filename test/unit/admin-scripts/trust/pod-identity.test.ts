/**
 * export-trust's namespace lock: a locked workload's roles trust it only with the pod-namespace
 * request tag the Keycloak extension sets; the trust keeps sts:TagSession. The STS emulator's policy
 * evaluation decides the documents.
 */
import { describe, expect, it } from "vitest";
import { buildTrustExport } from "../../../../admin-scripts/trust/export.ts";
import { compileTrustPolicy, type RequestContext } from "../../../../deploy/local/cloud/sts/trust-policy.ts";
import { trustDomain } from "../../../support/fixtures/realm-sync.ts";

const ISSUER = "https://issuer.example/realms/unit";
const HOST = "issuer.example/realms/unit";
const PROVIDER = `arn:aws:iam::111122223333:oidc-provider/${HOST}`;

/** payments-api (namespace `payments`) locked; a second workload on the same role, unlocked. */
function lockedDomain(tagKey = "kubernetes-namespace") {
  const base = trustDomain();
  return trustDomain({
    kubernetesIssuers: [{ issuer: "https://k8s.example", clusterName: "eu-1", sessionTags: { namespace: tagKey } }],
    workloads: [
      { ...base.workloads[0], aws: { ...base.workloads[0]!.aws, lockToNamespace: true } },
      {
        name: "audit",
        subject: "workload:audit",
        authentication: { clientSecret: { env: "LEGACY_SECRET" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/payments" }] },
      },
    ],
  });
}

const ctx = (sub: string, namespace?: string, tagKey = "kubernetes-namespace"): RequestContext =>
  new Map<string, string | string[] | undefined>([
    [`${HOST}:aud`, "sts.amazonaws.com"],
    [`${HOST}:sub`, sub],
    ...(namespace === undefined ? [] : [[`aws:requesttag/${tagKey}`, namespace] as [string, string]]),
  ]);

describe("export-trust with lockToNamespace", () => {
  it("gives the locked workload its own statement conditioned on aws:RequestTag/kubernetes-namespace, and keeps sts:TagSession", () => {
    const role = buildTrustExport(lockedDomain()).aws.roles.find((r) => r.RoleName === "payments")!;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: "Allow",
        Principal: { Federated: PROVIDER },
        Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        Condition: {
          StringEquals: { [`${HOST}:aud`]: "sts.amazonaws.com", [`${HOST}:sub`]: "workload:audit" },
          Null: { "sts:SourceIdentity": "true" },
        },
      },
      {
        Effect: "Allow",
        Principal: { Federated: PROVIDER },
        Action: ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
        Condition: {
          StringEquals: {
            [`${HOST}:aud`]: "sts.amazonaws.com",
            [`${HOST}:sub`]: "workload:payments-api",
            "aws:RequestTag/kubernetes-namespace": "payments",
          },
          Null: { "sts:SourceIdentity": "true" },
        },
      },
    ]);
    expect(buildTrustExport(lockedDomain()).aws.oidcProviders[0]?.Url).toBe(ISSUER);
  });

  it.each([
    ["the locked workload from its namespace", "workload:payments-api", "payments", "allow"],
    ["the locked workload from another namespace", "workload:payments-api", "billing", "implicit-deny"],
    ["the locked workload without a namespace tag", "workload:payments-api", undefined, "implicit-deny"],
    ["the unlocked workload on the same role, without tags", "workload:audit", undefined, "allow"],
  ] as const)("STS decides %s: %s", (_label, sub, namespace, decision) => {
    const role = buildTrustExport(lockedDomain()).aws.roles.find((r) => r.RoleName === "payments")!;
    const policy = compileTrustPolicy(role.AssumeRolePolicyDocument);
    for (const action of ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]) {
      expect(policy.evaluate({ action, federatedPrincipal: PROVIDER, context: ctx(sub, namespace) })).toBe(decision);
    }
  });

  it("conditions on the issuer's configured namespace tag key", () => {
    const role = buildTrustExport(lockedDomain("k8s-ns")).aws.roles.find((r) => r.RoleName === "payments")!;
    expect(role.AssumeRolePolicyDocument.Statement[1]?.Condition?.StringEquals).toHaveProperty(["aws:RequestTag/k8s-ns"], "payments");
    const policy = compileTrustPolicy(role.AssumeRolePolicyDocument);
    expect(
      policy.evaluate({
        action: "sts:AssumeRoleWithWebIdentity",
        federatedPrincipal: PROVIDER,
        context: ctx("workload:payments-api", "payments", "k8s-ns"),
      }),
    ).toBe("allow");
  });

  it("leaves an unlocked trust domain's documents as they were (one statement per role)", () => {
    for (const role of buildTrustExport(trustDomain()).aws.roles) expect(role.AssumeRolePolicyDocument.Statement).toHaveLength(1);
  });
});
