import { describe, expect, it } from "vitest";
import { createIssuerKeys, IssuerKeysError } from "../../../../../../deploy/local/cloud/common/issuer-keys.ts";
import { matchFederatedCredential } from "../../../../../../deploy/local/cloud/entra/fic.ts";
import { fakeIssuer, ISSUER, makeKey, SUBJECT, trustExport } from "../../../../../support/fixtures/cloud.ts";

const fics = trustExport().azure.federatedCredentials;
const AUD = "api://AzureADTokenExchange";

describe("matchFederatedCredential", () => {
  it.each([
    ["an exact match", { iss: ISSUER, sub: SUBJECT, aud: [AUD] }, "payments"],
    ["an audience list containing the FIC audience", { iss: ISSUER, sub: SUBJECT, aud: ["x", AUD] }, "payments"],
    ["another issuer", { iss: "https://other.example", sub: SUBJECT, aud: [AUD] }, 700211],
    ["a trailing slash on the issuer", { iss: `${ISSUER}/`, sub: SUBJECT, aud: [AUD] }, 700211],
    ["another audience", { iss: ISSUER, sub: SUBJECT, aud: ["api://Nope"] }, 700212],
    ["another subject", { iss: ISSUER, sub: "workload:x", aud: [AUD] }, 700213],
    ["a subject with a trailing space", { iss: ISSUER, sub: `${SUBJECT} `, aud: [AUD] }, 700213],
    ["a subject of one FIC with the audience of another", { iss: ISSUER, sub: "workload:other", aud: [AUD] }, 70021],
  ])("%s", (_name, assertion, expected) => {
    const m = matchFederatedCredential(fics, assertion);
    expect(m.ok ? m.fic.name : m.error.code).toBe(expected);
  });
});

describe("issuer discovery and JWKS", () => {
  it("caches keys, refetches on demand after the cool-down, and shares one fetch between concurrent callers", async () => {
    const key = await makeKey("k1");
    const issuer = fakeIssuer([key.publicJwk]);
    let now = 0;
    const keys = createIssuerKeys({ fetch: issuer.fetch, clock: () => now, refreshCooldownMs: 30_000, ttlMs: 600_000 });
    await Promise.all([keys.get(ISSUER), keys.get(ISSUER), keys.get(ISSUER)]);
    expect(keys.fetchCount).toBe(2);
    await keys.get(ISSUER, { forceRefresh: true });
    expect(keys.fetchCount).toBe(2);
    now = 31_000;
    await keys.get(ISSUER, { forceRefresh: true });
    expect(keys.fetchCount).toBe(4);
    now = 700_000;
    await keys.get(ISSUER);
    expect(keys.fetchCount).toBe(6);
  });

  it.each([
    ["a refused connection", () => Promise.reject(new TypeError("fetch failed")), "ISSUER_UNREACHABLE"],
    ["a 503", () => Promise.resolve(new Response("x", { status: 503 })), "ISSUER_UNREACHABLE"],
    ["a 404", () => Promise.resolve(new Response("x", { status: 404 })), "ISSUER_METADATA_INVALID"],
    [
      "a discovery document for another issuer",
      () => Promise.resolve(Response.json({ issuer: "https://evil.example", jwks_uri: "https://evil.example/jwks" })),
      "ISSUER_METADATA_INVALID",
    ],
    ["an oversized body", () => Promise.resolve(new Response("x".repeat(70_000))), "ISSUER_METADATA_INVALID"],
    [
      "a jwks_uri over http",
      () => Promise.resolve(Response.json({ issuer: ISSUER, jwks_uri: "http://issuer.example/jwks" })),
      "ISSUER_METADATA_INVALID",
    ],
  ])("classifies %s", async (_name, fetch, code) => {
    const keys = createIssuerKeys({ fetch });
    const error = await keys.get(ISSUER).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IssuerKeysError);
    expect((error as IssuerKeysError).code).toBe(code);
  });

  it("gives up after the timeout", async () => {
    const keys = createIssuerKeys({
      timeoutMs: 50,
      fetch: (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(new Error("aborted")))),
    });
    await expect(keys.get(ISSUER)).rejects.toMatchObject({ code: "ISSUER_UNREACHABLE" });
  });
});
