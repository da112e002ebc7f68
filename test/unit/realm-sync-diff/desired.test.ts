import { createPublicKey, X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { buildDesired, DesiredStateError } from "../../../admin-scripts/desired/build.ts";
import { sessionTagsClaimValue } from "../../../admin-scripts/desired/mappers.ts";
import { isManagedCertificate, keycloakKid, signingKeyMaterial } from "../../../admin-scripts/desired/signing-key.ts";
import { desiredOf, resolveTestSecret, rsaPem, SECRETS, trustDomain } from "./fixtures.ts";

describe("signing key material", () => {
  it("derives the same certificate and kid from the same key on every run (so every cluster publishes the same JWKS)", async () => {
    const a = await signingKeyMaterial(SECRETS.KEY_1!, "trust");
    const b = await signingKeyMaterial(SECRETS.KEY_1!, "trust");
    expect(a.certificate).toBe(b.certificate);
    expect(a.kid).toBe(b.kid);
    const cert = new X509Certificate(Buffer.from(a.certificate, "base64"));
    expect(cert.publicKey.export({ type: "spki", format: "der" })).toEqual(createPublicKey(SECRETS.KEY_1!).export({ type: "spki", format: "der" }));
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(a.kid).toBe(keycloakKid(createPublicKey(SECRETS.KEY_1!).export({ type: "spki", format: "der" })));
    expect(isManagedCertificate(a.certificate)).toBe(true);
  });

  it("gives different keys different certificates and kids", async () => {
    const a = await signingKeyMaterial(SECRETS.KEY_1!, "trust");
    const b = await signingKeyMaterial(SECRETS.KEY_2!, "trust");
    expect(a.kid).not.toBe(b.kid);
    expect(a.certificate).not.toBe(b.certificate);
  });

  it.each([
    ["not PEM", "hello", /not a PEM private key/],
    ["too short", rsaPem(1024), /at least 2048 bits/],
  ])("rejects a key that is %s", async (_label, pem, message) => {
    await expect(signingKeyMaterial(pem, "trust")).rejects.toThrow(message);
  });

  it("does not mistake a certificate it did not derive for its own", () => {
    expect(isManagedCertificate(undefined)).toBe(false);
    expect(isManagedCertificate("MIIB")).toBe(false);
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
      ["kcb-aws-session-tags", "https://aws\\.amazon\\.com/tags", '{"principal_tags":{"cost-center":["4711"],"team":["payments"]},"transitive_tag_keys":["team"]}'],
    ]);
    expect(d.clientScopes.map((s) => [s.name, s.mappers[0]!.protocolMapper, s.mappers[0]!.config["claim.value"] ?? s.mappers[0]!.config["included.custom.audience"]])).toEqual([
      ["kcb-aws", "oidc-hardcoded-claim-mapper", "sts.amazonaws.com"],
      ["kcb-azure", "oidc-hardcoded-claim-mapper", "api://AzureADTokenExchange"],
      ["kcb-agents", "oidc-audience-mapper", "kcb-agents"],
    ]);
    expect(d.identityProviders).toEqual([expect.objectContaining({ providerId: "kubernetes", config: { "kcb.managed-by": "realm-sync", issuer: "https://k8s.example" } })]);
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
      signingKeys: [{ name: "key-1", privateKey: { env: "MISSING_KEY" }, status: "active" as const }],
      workloads: [
        ...td.workloads,
        { ...td.workloads[2]!, name: "kcb-sneaky", subject: "x" },
        { ...td.workloads[0]!, name: "k8s-other-aud", subject: "y", authentication: { kubernetes: { issuer: "https://k8s.example", serviceAccount: "system:serviceaccount:a:b", audience: "sts.amazonaws.com" } } },
      ],
    };
    const error = await buildDesired(bad, resolveTestSecret).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DesiredStateError);
    expect((error as DesiredStateError).problems.map((p) => p.path.join("."))).toEqual(["signingKeys.0.privateKey", "workloads.3.name", "workloads.4.authentication.kubernetes.audience"]);
  });

  it("gives every (agent, workload with a cloud target) pair a delegation client when agentBroker is set", async () => {
    const td = trustDomain({
      agents: [
        { name: "copilot", match: { clientId: "copilot" }, actFor: ["*"], targets: [{ aws: { role: "arn:aws:iam::111122223333:role/payments" } }] },
        { name: "helper", match: { clientId: "helper" }, actFor: ["reporting-batch"], targets: [{ azure: { identity: "reports" } }] },
      ],
      agentBroker: { privateKeyJwt: { publicKey: { env: "BATCH_PUB" } } },
    });
    const d = await desiredOf(td);
    const delegation = d.clients.filter((c) => c.clientId.startsWith("kcb-delegation."));
    expect(delegation.map((c) => [c.clientId, c.optionalClientScopes])).toEqual([
      ["kcb-delegation.copilot.payments-api", ["kcb-aws"]],
      ["kcb-delegation.copilot.reporting-batch", ["kcb-azure"]],
      ["kcb-delegation.copilot.legacy-etl", ["kcb-aws"]],
      ["kcb-delegation.helper.reporting-batch", ["kcb-azure"]],
    ]);
    const payments = delegation[0]!;
    expect(payments.clientAuthenticatorType).toBe("client-jwt");
    expect(payments.attributes["jwt.credential.public.key"]).toMatch(/^MII/);
    expect(payments.mappers.map((m) => [m.name, m.config["claim.name"], m.config["claim.value"]])).toEqual([
      ["kcb-sub", "sub", "workload:payments-api"],
      ["kcb-aws-session-tags", "https://aws\\.amazon\\.com/tags", '{"principal_tags":{"cost-center":["4711"],"team":["payments"]},"transitive_tag_keys":["team"]}'],
      ["kcb-aws-source-identity", "https://aws\\.amazon\\.com/source_identity", "copilot@payments-api"],
    ]);
    expect((await desiredOf({ ...td, agentBroker: undefined })).clients.some((c) => c.clientId.startsWith("kcb-delegation."))).toBe(false);
  });

  it("writes the session-tags claim with sorted keys (stable diffs)", () => {
    expect(sessionTagsClaimValue({ b: "2", a: "1" }, ["b", "a"])).toBe('{"principal_tags":{"a":["1"],"b":["2"]},"transitive_tag_keys":["a","b"]}');
  });
});
