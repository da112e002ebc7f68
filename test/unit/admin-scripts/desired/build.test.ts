import { createPublicKey, X509Certificate } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildDesired, DesiredStateError } from "../../../../admin-scripts/desired/build.ts";
import { sessionTagsClaimValue } from "../../../../admin-scripts/desired/mappers.ts";
import { keyConfig } from "../../../../admin-scripts/desired/key-provider.ts";
import { certificateMaterial, keycloakKid } from "../../../../admin-scripts/desired/signing-key.ts";
import { TrustDomain } from "../../../../realm-config/model/schema.ts";
import { certificatePem, desiredOf, resolveTestSecret, SECRETS, trustDomain } from "../../../support/fixtures/realm-sync.ts";

const trustDomainInput = () => JSON.parse(JSON.stringify(trustDomain())) as Record<string, unknown>;

describe("signing key material: the public certificate only", () => {
  it("derives kid, n/e and x5c from the committed certificate, the same on every run", () => {
    const a = certificateMaterial(SECRETS.KEY_1!);
    const b = certificateMaterial(SECRETS.KEY_1!);
    expect(a).toEqual(b);
    const cert = new X509Certificate(SECRETS.KEY_1!);
    expect(a.certificate).toBe(cert.raw.toString("base64"));
    expect(a.kid).toBe(keycloakKid(cert.publicKey.export({ type: "spki", format: "der" })));
    expect(a.publicJwk).toMatchObject(cert.publicKey.export({ format: "jwk" }));
  });

  it("gives different keys different kids", () => {
    expect(certificateMaterial(SECRETS.KEY_1!).kid).not.toBe(certificateMaterial(SECRETS.KEY_2!).kid);
  });

  it.each([
    ["not PEM", () => Promise.resolve("hello"), /not a PEM X.509 certificate/],
    ["too short", () => certificatePem(1024), /at least 2048 bits/],
    ["expired", () => certificatePem(2048, new Date(Date.UTC(2021, 0, 1))), /expired on 2021-01-01/],
  ])("rejects a certificate that is %s", async (_label, make, message) => {
    const pem = await make();
    expect(() => certificateMaterial(pem)).toThrow(message);
  });

  it("configures the java-keystore provider with a file name, an alias and a vault reference: never a key or a password", async () => {
    const desired = await desiredOf();
    const config = keyConfig(desired.keys[0]!);
    expect(config).toMatchObject({
      keystore: "key-1.p12",
      keyAlias: "key-1",
      keystorePassword: "${vault.key-1-keystore}",
      keyPassword: "${vault.key-1-keystore}",
      keystoreType: "PKCS12",
      kid: desired.keys[0]!.kid,
    });
    expect(JSON.stringify(desired)).not.toMatch(/PRIVATE KEY/);
  });

  it("no realm-sync module can load a private key: no private-key API is imported anywhere in admin-scripts/ or the shared model", () => {
    const root = join(import.meta.dirname, "..", "..", "..", "..");
    const files = ["admin-scripts", join("realm-config", "model")].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: "utf8" })
        .filter((f) => f.endsWith(".ts"))
        .map((f) => join(dir, f)),
    );
    expect(files.length).toBeGreaterThan(20);
    for (const file of files)
      expect(readFileSync(join(root, file), "utf8"), file).not.toMatch(
        /createPrivateKey|importPKCS8|importPKCS1|PRIVATE KEY-----|createSign\(|\.sign\(/,
      );
  });

  it("has no place for a private key in the config", () => {
    const parsed = TrustDomain.safeParse({
      ...trustDomainInput(),
      signingKeys: [{ name: "k", privateKey: { env: "KEY" }, status: "active" }],
    });
    expect(parsed.success).toBe(false);
  });
});

describe("buildDesired", () => {
  it("shapes every workload token: sub and aud mappers, session tags, one identity provider per service-account issuer", async () => {
    const d = await desiredOf();
    const payments = d.clients.find((c) => c.clientId === "payments-api")!;
    expect(payments.clientAuthenticatorType).toBe("federated-jwt");
    expect(payments.attributes["jwt.credential.sub"]).toBe("system:serviceaccount:payments:api");
    expect(payments.attributes["jwt.credential.issuer"]).toBe(d.identityProviders[0]!.alias);
    expect(payments.optionalClientScopes).toEqual(["kcb-aws", "kcb-agents"]);
    expect(payments.mappers.map((m) => [m.name, m.config["claim.name"], m.config["claim.value"]])).toEqual([
      ["kcb-sub", "sub", "workload:payments-api"],
      [
        "kcb-aws-session-tags",
        "https://aws\\.amazon\\.com/tags",
        '{"principal_tags":{"cost-center":["4711"],"team":["payments"]},"transitive_tag_keys":["team"]}',
      ],
    ]);
    expect(
      d.clientScopes.map((s) => [
        s.name,
        s.mappers[0]!.protocolMapper,
        s.mappers[0]!.config["claim.value"] ?? s.mappers[0]!.config["included.custom.audience"],
      ]),
    ).toEqual([
      ["kcb-aws", "oidc-hardcoded-claim-mapper", "sts.amazonaws.com"],
      ["kcb-azure", "oidc-hardcoded-claim-mapper", "api://AzureADTokenExchange"],
      ["kcb-agents", "oidc-hardcoded-claim-mapper", "kcb-agents"],
    ]);
    expect(d.identityProviders).toEqual([
      expect.objectContaining({ providerId: "kubernetes", config: { "kcb.managed-by": "realm-sync", issuer: "https://k8s.example" } }),
    ]);
    expect(d.realm.attributes.frontendUrl).toBe("https://issuer.example");
  });

  it("gives private_key_jwt workloads their public key with an RFC 7638 kid, and secrets only to client-secret workloads", async () => {
    const d = await desiredOf();
    const batch = d.clients.find((c) => c.clientId === "reporting-batch")!;
    expect(batch.clientAuthenticatorType).toBe("client-jwt");
    expect(batch.attributes["jwt.credential.public.key"]).toMatch(/^MII/);
    expect(batch.attributes["jwt.credential.kid"]).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(batch.secret).toBeUndefined();
    expect(d.clients.find((c) => c.clientId === "legacy-etl")!.secret).toBe(SECRETS.LEGACY_SECRET);
  });

  it("reports every problem at once, with its config path", async () => {
    const td = trustDomain();
    const bad = {
      ...td,
      signingKeys: [
        {
          name: "key-1",
          certificate: { file: "MISSING_KEY" },
          keystore: { file: "key-1.p12", passwordVault: "key-1-keystore" },
          status: "active" as const,
        },
      ],
      workloads: [
        ...td.workloads,
        { ...td.workloads[2]!, name: "kcb-sneaky", subject: "x" },
        {
          ...td.workloads[0]!,
          name: "k8s-other-aud",
          subject: "y",
          authentication: {
            kubernetes: { issuer: "https://k8s.example", serviceAccount: "system:serviceaccount:a:b", audience: "sts.amazonaws.com" },
          },
        },
      ],
    };
    const error = await buildDesired(bad, resolveTestSecret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DesiredStateError);
    expect((error as DesiredStateError).problems.map((p) => p.path.join("."))).toEqual([
      "signingKeys.0.certificate.file",
      "workloads.3.name",
      "workloads.4.authentication.kubernetes.audience",
    ]);
  });

  const withSidecarKeys = (td: ReturnType<typeof trustDomain>): ReturnType<typeof trustDomain> => ({
    ...td,
    workloads: td.workloads.map((w, i) => ({
      ...w,
      agentDelegation: { privateKeyJwt: { publicKey: { env: ["PAYMENTS_SIDECAR_PUB", "BATCH_SIDECAR_PUB", "LEGACY_SIDECAR_PUB"][i]! } } },
    })),
  });

  it("gives a delegation client per (agent, workload) only for the cloud its targets there need, accepting only that workload's sidecar key", async () => {
    const td = withSidecarKeys(
      trustDomain({
        agents: [
          {
            name: "copilot",
            match: { clientId: "copilot" },
            actFor: ["*"],
            targets: [{ aws: { role: "arn:aws:iam::111122223333:role/payments" } }],
          },
          { name: "helper", match: { clientId: "helper" }, actFor: ["reporting-batch"], targets: [{ azure: { identity: "reports" } }] },
        ],
      }),
    );
    const d = await desiredOf(td);
    const delegation = d.clients.filter((c) => c.clientId.startsWith("kcb-delegation."));
    // copilot's only target is payments-api's role: nothing for reporting-batch (Azure only) or legacy-etl (another role).
    expect(delegation.map((c) => [c.clientId, c.optionalClientScopes])).toEqual([
      ["kcb-delegation.copilot.payments-api", ["kcb-aws"]],
      ["kcb-delegation.helper.reporting-batch", ["kcb-azure"]],
    ]);
    const [payments, helper] = delegation;
    expect(payments!.clientAuthenticatorType).toBe("client-jwt");
    const spki = (pem: string) => createPublicKey(pem).export({ type: "spki", format: "der" }).toString("base64");
    expect(payments!.attributes["jwt.credential.public.key"]).toBe(spki(SECRETS.PAYMENTS_SIDECAR_PUB!));
    expect(helper!.attributes["jwt.credential.public.key"]).toBe(spki(SECRETS.BATCH_SIDECAR_PUB!));
    expect(payments!.mappers.map((m) => [m.name, m.config["claim.name"], m.config["claim.value"]])).toEqual([
      ["kcb-sub", "sub", "workload:payments-api"],
      [
        "kcb-aws-session-tags",
        "https://aws\\.amazon\\.com/tags",
        '{"principal_tags":{"cost-center":["4711"],"team":["payments"]},"transitive_tag_keys":["team"]}',
      ],
      ["kcb-aws-source-identity", "https://aws\\.amazon\\.com/source_identity", "copilot@payments-api"],
    ]);
    // Without its sidecar's key, no agent can act for a workload.
    const noKeys = { ...td, workloads: td.workloads.map(({ agentDelegation: _unused, ...w }) => w) };
    expect((await desiredOf(noKeys)).clients.some((c) => c.clientId.startsWith("kcb-delegation."))).toBe(false);
  });

  it("refuses one delegation key for two workloads' sidecars, naming the path", async () => {
    const td = withSidecarKeys(
      trustDomain({
        agents: [
          {
            name: "copilot",
            match: { clientId: "copilot" },
            actFor: ["*"],
            targets: [{ aws: { role: "arn:aws:iam::111122223333:role/payments" } }],
          },
        ],
      }),
    );
    const shared = {
      ...td,
      workloads: td.workloads.map((w) => ({ ...w, agentDelegation: { privateKeyJwt: { publicKey: { env: "PAYMENTS_SIDECAR_PUB" } } } })),
    };
    const error = await buildDesired(shared, resolveTestSecret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DesiredStateError);
    expect((error as DesiredStateError).problems.map((p) => [p.path.join("."), p.message])).toEqual([
      [
        "workloads.1.agentDelegation.privateKeyJwt",
        "is the same delegation key as workload \"payments-api\"'s; each workload's sidecar needs its own key",
      ],
      [
        "workloads.2.agentDelegation.privateKeyJwt",
        "is the same delegation key as workload \"payments-api\"'s; each workload's sidecar needs its own key",
      ],
    ]);
  });

  it("writes the session-tags claim with sorted keys (stable diffs)", () => {
    expect(sessionTagsClaimValue({ b: "2", a: "1" }, ["b", "a"])).toBe(
      '{"principal_tags":{"a":["1"],"b":["2"]},"transitive_tag_keys":["a","b"]}',
    );
  });
});
