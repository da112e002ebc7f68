/**
 * Per-pod workload identity end to end, through realm-sync and the STS emulator, on both clusters:
 * realm-sync creates the Keycloak extension's provider and mapper from `kubernetesIssuers`, pods of
 * one service account get their own pod name and uid as session tags, STS sessions carry them, and
 * export-trust's namespace lock refuses a pod of another namespace.
 *
 * The extension configured by hand through the admin API (its own refusals, events and token
 * exchange) is tested in deploy/keycloak/extension's integration test; this file covers what the
 * product wires: realm-sync → Keycloak → export-trust → STS.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadTrustExport } from "../../admin-scripts/trust/artifacts.ts";
import { startStsEmulator, type StsEmulator } from "../../deploy/local/cloud/index.ts";
import { startKubeIssuer, type KubeIssuer, type ServiceAccountTokenRequest } from "../../deploy/local/issuer/kube-issuer.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { resignWithForeignKey } from "../support/cloud/token-forgery.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";
import { recordStsSession } from "../support/world.ts";

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);
const ROLE = "arn:aws:iam::111122223333:role/orders-api";
const BATCH_ROLE = "arn:aws:iam::111122223333:role/batch";
const TAGS = "https://aws.amazon.com/tags";
const BATCH_SECRET = randomClientSecret();

let kube: KubeIssuer;
let fx: RealmFixture;
let sts: StsEmulator;
let exportDir: string;
let firstPlan: string;

type TagClaim = { principal_tags: Record<string, string[]>; transitive_tag_keys?: string[] };

function pod(name: string, extra: Partial<ServiceAccountTokenRequest> = {}): ServiceAccountTokenRequest {
  return { namespace: "orders", serviceAccount: "orders-api", audience: fx.issuer, pod: { name }, ...extra };
}

async function tokenRequest(
  cluster: string,
  params: Record<string, string>,
): Promise<{ status: number; body: { access_token?: string; error?: string } }> {
  const res = await fetch(fx.tokenEndpoint(cluster), {
    method: "POST",
    body: new URLSearchParams({ grant_type: "client_credentials", ...params }),
  });
  return { status: res.status, body: (await res.json()) as { access_token?: string; error?: string } };
}

const withAssertion = (assertion: string) => ({
  client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
  client_assertion: assertion,
  scope: "kcb-aws",
});

async function podToken(cluster: string, assertion: string): Promise<string> {
  const { status, body } = await tokenRequest(cluster, withAssertion(assertion));
  if (!body.access_token) throw new Error(`${cluster}: HTTP ${status} ${JSON.stringify(body)}`);
  return body.access_token;
}

async function assumeRole(token: string, sessionName: string, roleArn = ROLE) {
  const client = new STSClient({
    endpoint: sts.url,
    region: "us-east-1",
    credentials: { accessKeyId: "unused", secretAccessKey: "unused" },
  });
  return client.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: roleArn, RoleSessionName: sessionName, WebIdentityToken: token }));
}

beforeAll(async () => {
  kube = await startKubeIssuer({ pki: await ensureLocalPki() });
  fx = await createRealmFixture({
    domain,
    prefix: "pods",
    files: { "batch.secret": BATCH_SECRET },
    workloads: [
      {
        name: "orders-api",
        subject: "workload:orders-api",
        authentication: { kubernetes: { issuer: kube.issuer, serviceAccount: "system:serviceaccount:orders:orders-api" } },
        aws: { roles: [{ arn: ROLE }], sessionTags: { team: "orders" }, transitiveTagKeys: ["team"], lockToNamespace: true },
      },
      {
        name: "batch",
        subject: "workload:batch",
        authentication: { clientSecret: { file: "batch.secret" } },
        aws: { roles: [{ arn: BATCH_ROLE }] },
      },
    ],
  });
  fx.writeConfig((doc) => {
    doc.kubernetesIssuers = [
      { issuer: kube.issuer, clusterName: "local-1", requirePodBinding: true, transitiveTagKeys: ["kubernetes-namespace"] },
    ];
  });
  firstPlan = (await fx.run("plan")).stdout;
  const applied = await fx.run("apply");
  if (applied.exitCode !== 0) throw new Error(`apply exited ${applied.exitCode}: ${(await fx.run("plan", { json: true })).stdout}`);
  exportDir = mkdtempSync(join(tmpdir(), "kcb-pods-trust-"));
  const exported = await fx.run("export-trust", { out: exportDir });
  if (exported.exitCode !== 0) throw new Error(exported.stderr);
  sts = await startStsEmulator({ trust: loadTrustExport(exportDir), allowIssuerPort: true, onSessionIssued: recordStsSession });
});

afterAll(async () => {
  await sts?.close();
  await kube?.close();
  await fx?.remove();
  if (exportDir) rmSync(exportDir, { recursive: true, force: true });
});

describe("realm-sync wires the extension", () => {
  it("plans the kubernetes-pod provider and the pod mapper, applies them on both clusters, then has nothing left to do", async () => {
    expect(firstPlan).toContain("kubernetes-pod");
    expect(firstPlan).toContain("kcb-pod-identity");
    for (const cluster of CLUSTERS) {
      const admin = await fx.admin(cluster);
      const [idp] = await admin.identityProviders.find();
      expect(idp).toMatchObject({
        providerId: "kubernetes-pod",
        config: expect.objectContaining({ clusterName: "local-1", requirePodBinding: "true", issuer: kube.issuer }) as unknown,
      });
      const [client] = await admin.clients.find({ clientId: "orders-api" });
      expect(client?.protocolMappers?.map((m) => m.protocolMapper)).toContain("oidc-kubernetes-pod-mapper");
    }
    const plan = await fx.run("plan");
    expect(plan.exitCode, plan.stdout).toBe(0);
  });

  it("repairs drift: a hand-edited tag key and a switched-off pod binding make check exit 3, apply restores them", async () => {
    const admin = await fx.admin(CLUSTERS[0]!);
    const [client] = await admin.clients.find({ clientId: "orders-api" });
    const mapper = client!.protocolMappers!.find((m) => m.name === "kcb-pod-identity")!;
    // The pod-name key: renaming the namespace key would leave the transitive key kubernetes-namespace naming no tag, a config the extension refuses.
    await admin.clients.updateProtocolMapper(
      { id: client!.id!, mapperId: mapper.id! },
      { ...mapper, config: { ...mapper.config, "tag.pod-name": "pod" } },
    );
    const [idp] = await admin.identityProviders.find();
    await admin.identityProviders.update({ alias: idp!.alias! }, { ...idp, config: { ...idp!.config, requirePodBinding: "false" } });

    const check = await fx.run("check");
    expect(check.exitCode).toBe(3);
    expect(check.stdout).toContain(`drift: ${CLUSTERS[0]} (`);
    expect(check.stdout).toContain('config["tag.pod-name"]: "pod" → "kubernetes-pod-name"');
    expect(check.stdout).toContain('config["requirePodBinding"]: "false" → "true"');
    await fx.apply();
    expect((await fx.run("check")).exitCode).toBe(0);
  });
});

describe("two pods of one service account", () => {
  it("get their own pod name and uid in the token and in the STS session; both clusters issue identical tags for one assertion", async () => {
    const pods = [
      { name: "orders-api-7d9f8-aaaaa", uid: "11111111-1111-4111-8111-111111111111" },
      { name: "orders-api-7d9f8-bbbbb", uid: "22222222-2222-4222-8222-222222222222" },
    ];
    for (const p of pods) {
      const assertion = await kube.mintToken(pod(p.name, { pod: p }));
      const byCluster = await Promise.all(CLUSTERS.map(async (cluster) => decodeJwt(await podToken(cluster, assertion))));
      for (const claims of byCluster) {
        expect(claims[TAGS]).toEqual({
          principal_tags: {
            team: ["orders"],
            "kubernetes-namespace": ["orders"],
            "kubernetes-service-account": ["orders-api"],
            "kubernetes-pod-name": [p.name],
            "kubernetes-pod-uid": [p.uid],
            "kubernetes-cluster-name": ["local-1"],
          },
          transitive_tag_keys: expect.arrayContaining(["team", "kubernetes-namespace"]) as unknown,
        });
        expect(claims.kubernetes).toEqual({
          namespace: "orders",
          service_account: "orders-api",
          pod_name: p.name,
          pod_uid: p.uid,
          cluster_name: "local-1",
        });
      }
      expect(byCluster[1]?.[TAGS]).toEqual(byCluster[0]?.[TAGS]);
      expect((byCluster[1]?.[TAGS] as TagClaim).transitive_tag_keys?.sort()).toEqual(["kubernetes-namespace", "team"]);

      const token = await podToken(CLUSTERS[0]!, await kube.mintToken(pod(p.name, { pod: p })));
      const out = await assumeRole(token, p.name.slice(-5));
      const session = sts.session(out.Credentials!.AccessKeyId!);
      expect(session?.tags).toMatchObject({
        "kubernetes-pod-name": p.name,
        "kubernetes-pod-uid": p.uid,
        "kubernetes-namespace": "orders",
        team: "orders",
      });
      expect(session?.transitiveTagKeys.sort()).toEqual(["kubernetes-namespace", "team"]);
    }
  });
});

describe("refused assertions", () => {
  it.each([
    [
      "a forged assertion (valid claims, signed by a foreign key with the issuer's kid)",
      async () => resignWithForeignKey(await kube.mintToken(pod("p-forged")), kube.kid()),
    ],
    [
      "an assertion whose sub disagrees with its kubernetes.io namespace",
      () =>
        kube.mintToken(
          pod("p-mismatch", {
            overrideClaims: {
              "kubernetes.io": { namespace: "billing", serviceaccount: { name: "orders-api", uid: "x" }, pod: { name: "p", uid: "u" } },
            },
          }),
        ),
    ],
    ["an assertion bound to no pod while requirePodBinding is on", () => kube.mintToken(pod("unused", { pod: null }))],
  ])("%s: invalid_client on every cluster", async (_label, make) => {
    const assertion = await make();
    for (const cluster of CLUSTERS) {
      const { status, body } = await tokenRequest(cluster, withAssertion(assertion));
      expect(status, cluster).toBe(401);
      expect(body.error).toBe("invalid_client");
    }
  });
});

describe("no leak", () => {
  it("a client that did not authenticate with a Kubernetes assertion gets no pod values", async () => {
    for (const cluster of CLUSTERS) {
      const { body } = await tokenRequest(cluster, { client_id: "batch", client_secret: BATCH_SECRET, scope: "kcb-aws" });
      const claims = decodeJwt(body.access_token!);
      expect(claims.kubernetes).toBeUndefined();
      expect(JSON.stringify(claims)).not.toContain("kubernetes-pod");
    }
  });
});

describe("export-trust's namespace lock", () => {
  it("refuses a pod from another namespace at STS (AccessDenied) while the trust still names the old one", async () => {
    // The workload moves to namespace `billing` in Keycloak, but the AWS trust exported before still locks the role to `orders`.
    fx.writeConfig((doc) => {
      const w = (doc.workloads as Array<{ name: string; authentication: { kubernetes?: { serviceAccount: string } } }>).find(
        (x) => x.name === "orders-api",
      )!;
      w.authentication.kubernetes!.serviceAccount = "system:serviceaccount:billing:orders-api";
    });
    await fx.apply();
    const token = await podToken(CLUSTERS[1]!, await kube.mintToken(pod("orders-api-billing", { namespace: "billing" })));
    expect((decodeJwt(token)[TAGS] as TagClaim).principal_tags["kubernetes-namespace"]).toEqual(["billing"]);
    await expect(assumeRole(token, "billing")).rejects.toMatchObject({ name: "AccessDenied", $metadata: { httpStatusCode: 403 } });
    expect(sts.calls.at(-1)).toMatchObject({ action: "AssumeRoleWithWebIdentity", code: "AccessDenied" });
  });
});
