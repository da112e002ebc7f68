import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt, generateKeyPair, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { kubernetesIdpAlias } from "../../admin-scripts/desired/names.ts";
import { startKubeIssuer, type KubeIssuer, type ServiceAccountTokenRequest } from "../../deploy/local/issuer/kube-issuer.ts";
import { repoRoot } from "../../deploy/local/paths.ts";
import { ensureLocalPki } from "../../deploy/local/pki/local-pki.ts";
import { createRealmFixture, randomClientSecret, type RealmFixture } from "../support/realm-fixture.ts";

// The project's Keycloak extension (deploy/keycloak/extension), installed by the harness into both
// clusters, configured here through the admin API: a `kubernetes-pod` identity provider per Kubernetes
// issuer in place of Keycloak's `kubernetes` one, and the `oidc-kubernetes-pod-mapper` on the clients.

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);
const TAGS_CLAIM = "https://aws.amazon.com/tags";
const ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token";
const LEGACY_SECRET = randomClientSecret();
const PACKAGE_VERSION = (JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as { version: string }).version;

/** 46 tags of its own: with the 5 pod tags the token would carry 51, one more than STS takes. */
const CROWDED_TAGS = Object.fromEntries(Array.from({ length: 46 }, (_, i) => [`t${i}`, "v"]));

let fx: RealmFixture;
/** Cluster `kind-payments` (pod binding optional) and `kind-ledger` (requirePodBinding). */
let payments: KubeIssuer;
let ledger: KubeIssuer;

interface TokenResult {
  status: number;
  body: { access_token?: string; error?: string; error_description?: string };
  claims?: JWTPayload;
}

async function tokenRequest(cluster: string, params: Record<string, string>): Promise<TokenResult> {
  const res = await fetch(fx.tokenEndpoint(cluster), { method: "POST", body: new URLSearchParams(params) });
  const body = (await res.json()) as TokenResult["body"];
  return { status: res.status, body, claims: body.access_token ? decodeJwt(body.access_token) : undefined };
}

function podGrant(assertion: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    grant_type: "client_credentials",
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: assertion,
    scope: "kcb-aws",
    ...extra,
  };
}

async function paymentsToken(cluster: string, req: Partial<ServiceAccountTokenRequest> = {}): Promise<TokenResult> {
  const assertion = await payments.mintToken({ namespace: "payments", serviceAccount: "payments-api", audience: fx.issuer, ...req });
  return tokenRequest(cluster, podGrant(assertion));
}

function principalTags(claims: JWTPayload | undefined): Record<string, string[]> {
  return (claims?.[TAGS_CLAIM] as { principal_tags?: Record<string, string[]> } | undefined)?.principal_tags ?? {};
}

function podValues(claims: JWTPayload | undefined): string[] {
  const tags = principalTags(claims);
  return [...Object.keys(tags).filter((k) => k.startsWith("kubernetes-")), ...(claims && "kubernetes" in claims ? ["kubernetes"] : [])];
}

async function clientId(cluster: string, name: string): Promise<string> {
  const admin = await fx.admin(cluster);
  const [client] = await admin.clients.find({ clientId: name });
  if (!client?.id) throw new Error(`${cluster}: no client ${name}`);
  return client.id;
}

async function events(
  cluster: string,
  type: "CLIENT_LOGIN" | "CLIENT_LOGIN_ERROR",
): Promise<Array<{ clientId?: string; error?: string; details?: Record<string, string> }>> {
  const admin = await fx.admin(cluster);
  return admin.realms.findEvents({ realm: fx.realm, type, max: 100 });
}

const MAPPER = {
  name: "kcb-kubernetes-pod",
  protocol: "openid-connect",
  protocolMapper: "oidc-kubernetes-pod-mapper",
  config: {
    "tag.namespace": "kubernetes-namespace",
    "tag.service-account": "kubernetes-service-account",
    "tag.pod-name": "kubernetes-pod-name",
    "tag.pod-uid": "kubernetes-pod-uid",
    "tag.cluster-name": "kubernetes-cluster-name",
    "transitive.tag.keys": "kubernetes-namespace",
    "plain.claims": "true",
    "access.token.claim": "true",
    "id.token.claim": "false",
  },
};

/** Replaces realm-sync's `kubernetes` provider of `issuer` by a `kubernetes-pod` one with the same alias. */
async function usePodProvider(cluster: string, issuer: KubeIssuer, clusterName: string, requirePodBinding: boolean): Promise<void> {
  const admin = await fx.admin(cluster);
  const alias = kubernetesIdpAlias(issuer.issuer);
  await admin.identityProviders.del({ alias });
  await admin.identityProviders.create({
    alias,
    providerId: "kubernetes-pod",
    enabled: true,
    config: { issuer: issuer.issuer, clusterName, requirePodBinding: String(requirePodBinding) },
  });
}

beforeAll(async () => {
  const pki = await ensureLocalPki();
  payments = await startKubeIssuer({ pki });
  ledger = await startKubeIssuer({ pki });
  fx = await createRealmFixture({
    domain,
    prefix: "kc-extension",
    files: { "legacy-etl.secret": LEGACY_SECRET },
    workloads: [
      {
        name: "payments-api",
        subject: "workload:payments-api",
        authentication: { kubernetes: { issuer: payments.issuer, serviceAccount: "system:serviceaccount:payments:payments-api" } },
        aws: {
          roles: [{ arn: "arn:aws:iam::111122223333:role/payments-api" }],
          sessionTags: { team: "payments" },
          transitiveTagKeys: ["team"],
        },
      },
      {
        name: "ledger-api",
        subject: "workload:ledger-api",
        authentication: { kubernetes: { issuer: ledger.issuer, serviceAccount: "system:serviceaccount:ledger:ledger-api" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/ledger-api" }] },
      },
      {
        name: "crowded-api",
        subject: "workload:crowded-api",
        authentication: { kubernetes: { issuer: payments.issuer, serviceAccount: "system:serviceaccount:crowded:crowded-api" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/crowded-api" }], sessionTags: CROWDED_TAGS },
      },
      {
        name: "legacy-etl",
        subject: "workload:legacy-etl",
        authentication: { clientSecret: { file: "legacy-etl.secret" } },
        aws: { roles: [{ arn: "arn:aws:iam::111122223333:role/legacy-etl" }] },
      },
    ],
  });
  await fx.apply();

  for (const cluster of CLUSTERS) {
    const admin = await fx.admin(cluster);
    await admin.realms.update({ realm: fx.realm }, { eventsEnabled: true });
    await usePodProvider(cluster, payments, "kind-payments", false);
    await usePodProvider(cluster, ledger, "kind-ledger", true);
    for (const name of ["payments-api", "ledger-api", "crowded-api", "legacy-etl"]) {
      await admin.clients.addProtocolMapper({ id: await clientId(cluster, name) }, MAPPER);
    }
    // Standard token exchange (default feature of 26.x): payments-api may exchange tokens whose aud names it.
    const paymentsId = await clientId(cluster, "payments-api");
    const paymentsClient = await admin.clients.findOne({ id: paymentsId });
    await admin.clients.update(
      { id: paymentsId },
      { ...paymentsClient, attributes: { ...paymentsClient?.attributes, "standard.token.exchange.enabled": "true" } },
    );
    const legacyId = await clientId(cluster, "legacy-etl");
    const legacyClient = await admin.clients.findOne({ id: legacyId });
    await admin.clients.update(
      { id: legacyId },
      { ...legacyClient, attributes: { ...legacyClient?.attributes, "client_credentials.use_refresh_token": "true" } },
    );
    await admin.clients.addProtocolMapper(
      { id: legacyId },
      {
        name: "aud-payments-api",
        protocol: "openid-connect",
        protocolMapper: "oidc-audience-mapper",
        config: { "included.client.audience": "payments-api", "access.token.claim": "true" },
      },
    );
  }
});

afterAll(async () => {
  await fx?.remove();
  await payments?.close();
  await ledger?.close();
});

describe("Keycloak extension: per-pod identity (kubernetes-pod provider + oidc-kubernetes-pod-mapper)", () => {
  it("is installed on every cluster and reports the project's version in the server info", async () => {
    for (const cluster of CLUSTERS) {
      const admin = await fx.admin(cluster);
      const info = (await admin.serverInfo.find()) as {
        providers?: Record<string, { providers: Record<string, { operationalInfo?: Record<string, string> }> }>;
      };
      expect(info.providers?.["identity_provider"]?.providers["kubernetes-pod"]?.operationalInfo).toEqual({ version: PACKAGE_VERSION });
      expect(info.providers?.["protocol-mapper"]?.providers["oidc-kubernetes-pod-mapper"]?.operationalInfo).toEqual({
        version: PACKAGE_VERSION,
      });
    }
  });

  it("gives two pods of one service account their own pod name and uid, merged into the realm-sync session tags", async () => {
    const a = await paymentsToken("eu", { pod: { name: "payments-api-7d9f8-aaaaa", uid: "11111111-1111-4111-8111-111111111111" } });
    const b = await paymentsToken("eu", { pod: { name: "payments-api-7d9f8-bbbbb", uid: "22222222-2222-4222-8222-222222222222" } });
    expect(a.status, JSON.stringify(a.body)).toBe(200);
    expect(b.status, JSON.stringify(b.body)).toBe(200);
    expect(a.claims?.[TAGS_CLAIM]).toEqual({
      principal_tags: {
        team: ["payments"],
        "kubernetes-namespace": ["payments"],
        "kubernetes-service-account": ["payments-api"],
        "kubernetes-pod-name": ["payments-api-7d9f8-aaaaa"],
        "kubernetes-pod-uid": ["11111111-1111-4111-8111-111111111111"],
        "kubernetes-cluster-name": ["kind-payments"],
      },
      transitive_tag_keys: ["team", "kubernetes-namespace"],
    });
    expect(a.claims?.kubernetes).toEqual({
      namespace: "payments",
      service_account: "payments-api",
      pod_name: "payments-api-7d9f8-aaaaa",
      pod_uid: "11111111-1111-4111-8111-111111111111",
      cluster_name: "kind-payments",
    });
    expect(principalTags(b.claims)["kubernetes-pod-name"]).toEqual(["payments-api-7d9f8-bbbbb"]);
    expect(principalTags(b.claims)["kubernetes-pod-uid"]).toEqual(["22222222-2222-4222-8222-222222222222"]);
    expect(a.claims?.sub).toBe("workload:payments-api");
    expect(b.claims?.sub).toBe("workload:payments-api");
  });

  it("names the namespace, pod and pod uid in the CLIENT_LOGIN event", async () => {
    await paymentsToken("us", { pod: { name: "payments-api-7d9f8-event", uid: "33333333-3333-4333-8333-333333333333" } });
    const logins = await events("us", "CLIENT_LOGIN");
    expect(logins.map((e) => e.details)).toContainEqual(
      expect.objectContaining({
        kubernetes_namespace: "payments",
        kubernetes_pod: "payments-api-7d9f8-event",
        kubernetes_pod_uid: "33333333-3333-4333-8333-333333333333",
      }),
    );
  });

  it("issues identical tags on both clusters for the same assertion", async () => {
    const assertion = await payments.mintToken({ namespace: "payments", serviceAccount: "payments-api", audience: fx.issuer });
    const [eu, us] = await Promise.all(CLUSTERS.map((cluster) => tokenRequest(cluster, podGrant(assertion))));
    expect(eu?.status).toBe(200);
    expect(us?.status).toBe(200);
    expect(eu?.claims?.[TAGS_CLAIM]).toEqual(us?.claims?.[TAGS_CLAIM]);
    expect(eu?.claims?.kubernetes).toEqual(us?.claims?.kubernetes);
    expect(principalTags(eu?.claims)["kubernetes-pod-name"]).toHaveLength(1);
  });

  it("refuses a forged assertion (signed by a key the issuer's JWKS does not have)", async () => {
    const { privateKey } = await generateKeyPair("RS256");
    const forged = await paymentsToken("eu", { forgeWith: privateKey });
    expect(forged.status).toBe(401);
    expect(forged.body.error).toBe("invalid_client");
    expect(forged.claims).toBeUndefined();
  });

  it("refuses an assertion whose sub disagrees with its kubernetes.io namespace or service account, and says why in the event", async () => {
    for (const claim of [
      { namespace: "other", serviceaccount: { name: "payments-api", uid: "u" }, pod: { name: "p", uid: "u" } },
      { namespace: "payments", serviceaccount: { name: "other-sa", uid: "u" }, pod: { name: "p", uid: "u" } },
    ]) {
      const refused = await paymentsToken("eu", { overrideClaims: { "kubernetes.io": claim } });
      expect(refused.status).toBe(401);
      expect(refused.body.error).toBe("invalid_client");
      expect(refused.claims).toBeUndefined();
    }
    const errors = await events("eu", "CLIENT_LOGIN_ERROR");
    expect(errors.map((e) => e.details?.reason)).toContain(
      "sub is not system:serviceaccount:other:payments-api (the namespace and service account of its kubernetes.io claim)",
    );
  });

  it("refuses a token bound to no pod when requirePodBinding is on, and accepts one without pod values when it is off", async () => {
    const ledgerAssertion = await ledger.mintToken({ namespace: "ledger", serviceAccount: "ledger-api", audience: fx.issuer, pod: null });
    const refused = await tokenRequest("eu", podGrant(ledgerAssertion));
    expect(refused.status).toBe(401);
    expect(refused.claims).toBeUndefined();

    const bound = await tokenRequest(
      "eu",
      podGrant(await ledger.mintToken({ namespace: "ledger", serviceAccount: "ledger-api", audience: fx.issuer })),
    );
    expect(bound.status).toBe(200);
    expect(principalTags(bound.claims)["kubernetes-cluster-name"]).toEqual(["kind-ledger"]);

    const podless = await paymentsToken("eu", { pod: null });
    expect(podless.status).toBe(200);
    expect(principalTags(podless.claims)).toEqual({
      team: ["payments"],
      "kubernetes-namespace": ["payments"],
      "kubernetes-service-account": ["payments-api"],
      "kubernetes-cluster-name": ["kind-payments"],
    });
    expect(podless.claims?.kubernetes).toEqual({ namespace: "payments", service_account: "payments-api", cluster_name: "kind-payments" });
  });

  it("puts no pod values into a token another client's session gets through standard token exchange", async () => {
    const legacy = await tokenRequest("eu", { grant_type: "client_credentials", client_id: "legacy-etl", client_secret: LEGACY_SECRET });
    expect(legacy.status, JSON.stringify(legacy.body)).toBe(200);
    expect(podValues(legacy.claims)).toEqual([]);

    // payments-api authenticates with its pod's assertion and exchanges legacy-etl's token: Keycloak
    // copies payments-api's client-auth attributes onto legacy-etl's session.
    const assertion = await payments.mintToken({ namespace: "payments", serviceAccount: "payments-api", audience: fx.issuer });
    const exchanged = await tokenRequest("eu", {
      grant_type: TOKEN_EXCHANGE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
      subject_token: legacy.body.access_token ?? "",
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
    });
    expect(exchanged.status, JSON.stringify(exchanged.body)).toBe(200);
    expect(exchanged.claims?.azp).toBe("payments-api");
    expect(podValues(exchanged.claims)).toEqual([]);
  });

  it("puts no pod values into the token of a client that did not authenticate with a Kubernetes assertion", async () => {
    for (const cluster of CLUSTERS) {
      const legacy = await tokenRequest(cluster, {
        grant_type: "client_credentials",
        client_id: "legacy-etl",
        client_secret: LEGACY_SECRET,
      });
      expect(legacy.status).toBe(200);
      expect(legacy.claims).toBeDefined();
      expect(podValues(legacy.claims)).toEqual([]);
    }
  });

  it("issues no token whose session tags STS would refuse: 46 of the workload's own + 5 pod tags", async () => {
    const assertion = await payments.mintToken({ namespace: "crowded", serviceAccount: "crowded-api", audience: fx.issuer });
    const refused = await tokenRequest("eu", podGrant(assertion));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe("invalid_request");
    expect(refused.claims).toBeUndefined();
    const errors = await events("eu", "CLIENT_LOGIN_ERROR");
    expect(errors.map((e) => ({ error: e.error, reason: e.details?.reason }))).toContainEqual({
      error: "invalid_session_tags",
      reason: "51 session tags, more than the 50 AWS allows",
    });
    const log = readFileSync(domain.clusters.find((c) => c.name === "eu")!.logFile, "utf8");
    expect(log).toContain("No token for client crowded-api");
  });

  it("refuses a bad mapper or provider config through the admin API, naming the key", async () => {
    const admin = await fx.admin("eu");
    await expect(
      admin.clients.addProtocolMapper(
        { id: await clientId("eu", "legacy-etl") },
        { ...MAPPER, name: "bad-keys", config: { ...MAPPER.config, "tag.pod-name": "pod{name}'s" } },
      ),
    ).rejects.toThrow(/tag\.pod-name: tag key "pod\(name\)`s" has a character AWS does not allow/);
    await expect(
      admin.identityProviders.create({
        alias: "no-cluster-name",
        providerId: "kubernetes-pod",
        enabled: true,
        config: { issuer: "https://kubernetes.invalid" },
      }),
    ).rejects.toThrow(/clusterName is required/);
  });
});
