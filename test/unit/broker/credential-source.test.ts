/**
 * The credential source composed over in-memory stand-ins of its own ports (token source,
 * exchangers), with fake timers: what calls what, how often, and what callers see.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { parseBrokerConfig, type Config } from "../../../broker/config.ts";
import { createCredentialSource } from "../../../broker/credential-source.ts";
import { BrokerError, type BrokerErrorCode } from "../../../broker/errors.ts";
import type { AssumeRoleRequest, AwsExchanger } from "../../../broker/exchange/aws-sts.ts";
import type { AzureExchanger, EntraTokenRequest } from "../../../broker/exchange/azure-entra.ts";
import { createLogger } from "../../../broker/log.ts";
import { MetricsRegistry } from "../../../broker/metrics.ts";
import type { Audience, WorkloadTokenSource } from "../../../broker/token-source/token-source.ts";

const MIN = 60_000;
const T0 = Date.parse("2030-01-01T00:00:00Z");
const CONFIG = `issuer: https://kc.example.com/realms/prod
clientId: payments-api
authentication: { clientSecret: { file: /run/secret } }
aws:
  region: eu-west-1
  roles:
    - { name: s3-reader, arn: "arn:aws:iam::123456789012:role/s3-reader" }
    - { name: audit, arn: "arn:aws:iam::123456789012:role/audit", durationSeconds: 900, sessionName: custom-name, sessionPolicy: { Version: "2012-10-17", Statement: [] } }
azure:
  identities:
    - name: blob
      tenantId: 11111111-2222-3333-4444-555555555555
      clientId: 66666666-7777-8888-9999-000000000000
      scopes: [https://storage.azure.com/.default, https://vault.azure.net/.default]
`;

function config(): Config {
  const result = parseBrokerConfig(CONFIG);
  if (!result.ok) throw new Error(JSON.stringify(result.errors));
  return result.config;
}

function world() {
  const state = {
    keycloak: "ok" as "ok" | BrokerErrorCode,
    sts: "ok" as "ok" | BrokerErrorCode,
    entra: "ok" as "ok" | BrokerErrorCode,
    tokenLifetimeMs: 10 * MIN,
  };
  let tokenCount = 0;
  const tokenSource = {
    fetch: vi.fn(async (audience: Audience) => {
      await Promise.resolve();
      if (state.keycloak !== "ok") throw new BrokerError(state.keycloak, "keycloak says no");
      tokenCount += 1;
      return { token: `${audience}-token-${tokenCount}`, expiresAt: new Date(Date.now() + state.tokenLifetimeMs) };
    }),
  } satisfies WorkloadTokenSource;
  let keyCount = 0;
  const aws = {
    assumeRole: vi.fn(async (req: AssumeRoleRequest) => {
      await Promise.resolve();
      if (state.sts !== "ok") throw new BrokerError(state.sts, "sts says no");
      keyCount += 1;
      return {
        accessKeyId: `ASIA${keyCount}`,
        secretAccessKey: "secret",
        sessionToken: "session",
        expiration: new Date(Date.now() + req.durationSeconds * 1000),
        accountId: "123456789012",
        assumedRoleArn: `arn:aws:sts::123456789012:assumed-role/x/${req.sessionName}`,
      };
    }),
  } satisfies AwsExchanger;
  const azure = {
    getToken: vi.fn(async (req: EntraTokenRequest) => {
      await Promise.resolve();
      if (state.entra !== "ok") throw new BrokerError(state.entra, "entra says no");
      return { accessToken: `entra:${req.scope}:${req.assertion}`, expiresOn: new Date(Date.now() + 60 * MIN) };
    }),
  } satisfies AzureExchanger;
  const metrics = new MetricsRegistry();
  const source = createCredentialSource({
    config: config(),
    tokenSource,
    aws,
    azure,
    logger: createLogger({ write: () => {} }),
    metrics,
    random: () => 0.5,
  });
  return { state, tokenSource, aws, azure, metrics, source };
}

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as BrokerError).code;
  }
  return undefined;
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createCredentialSource", () => {
  it("1,000 concurrent cold requests for one target make one Keycloak call and one STS call", async () => {
    const w = world();
    const all = await Promise.all(Array.from({ length: 1000 }, () => w.source.aws("s3-reader")));
    expect(w.tokenSource.fetch).toHaveBeenCalledTimes(1);
    expect(w.aws.assumeRole).toHaveBeenCalledTimes(1);
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(await w.metrics.render()).toContain('cloud_broker_cache_misses_total{cloud="aws",target="s3-reader",scope=""} 1000');
    expect(await w.metrics.render()).toContain('cloud_broker_upstream_calls_total{upstream="keycloak",outcome="ok"} 1');
    expect(await w.metrics.render()).toContain('cloud_broker_upstream_calls_total{upstream="aws",outcome="ok"} 1');
  });

  it("exchanges with the derived session name, or the configured one with duration and session policy", async () => {
    const w = world();
    await w.source.aws("s3-reader");
    await w.source.aws("audit");
    expect(w.aws.assumeRole.mock.calls.map(([r]) => ({ ...r }))).toEqual([
      {
        roleArn: "arn:aws:iam::123456789012:role/s3-reader",
        sessionName: "payments-api@s3-reader",
        durationSeconds: 3600,
        webIdentityToken: "aws-token-1",
      },
      {
        roleArn: "arn:aws:iam::123456789012:role/audit",
        sessionName: "custom-name",
        durationSeconds: 900,
        policy: '{"Version":"2012-10-17","Statement":[]}',
        webIdentityToken: "aws-token-1",
      },
    ]);
  });

  it("keeps one workload token per audience", async () => {
    const w = world();
    await w.source.aws("s3-reader");
    await w.source.azure("blob");
    expect(w.tokenSource.fetch.mock.calls.map(([a]) => a)).toEqual(["aws", "azure"]);
    expect(w.azure.getToken).toHaveBeenCalledWith({
      tenantId: "11111111-2222-3333-4444-555555555555",
      clientId: "66666666-7777-8888-9999-000000000000",
      scope: "https://storage.azure.com/.default",
      assertion: "azure-token-2",
    });
    expect(await w.source.workloadToken("azure")).toEqual({ token: "azure-token-2", expiresAt: new Date(T0 + 10 * MIN) });
  });

  it.each([
    [undefined, "https://storage.azure.com/.default", "https://storage.azure.com"],
    ["https://vault.azure.net", "https://vault.azure.net/.default", "https://vault.azure.net"],
    ["https://vault.azure.net/", "https://vault.azure.net/.default", "https://vault.azure.net"],
    ["https://vault.azure.net/.default", "https://vault.azure.net/.default", "https://vault.azure.net"],
  ])("resolves the Azure scope %s to %s", async (asked, scope, resource) => {
    const w = world();
    const token = await w.source.azure("blob", asked);
    expect(token).toMatchObject({
      resource,
      clientId: "66666666-7777-8888-9999-000000000000",
      tenantId: "11111111-2222-3333-4444-555555555555",
    });
    expect(w.azure.getToken.mock.calls[0]?.[0].scope).toBe(scope);
  });

  it.each([
    ["an unknown AWS target", (w: ReturnType<typeof world>) => w.source.aws("nope"), "UNKNOWN_TARGET"],
    ["an unknown Azure target", (w: ReturnType<typeof world>) => w.source.azure("nope"), "UNKNOWN_TARGET"],
    [
      "a scope the target does not have",
      (w: ReturnType<typeof world>) => w.source.azure("blob", "https://graph.microsoft.com/.default"),
      "BAD_REQUEST",
    ],
  ])("refuses %s without any upstream call", async (_what, call, expected) => {
    const w = world();
    expect(await codeOf(call(w))).toBe(expected);
    expect(w.tokenSource.fetch).not.toHaveBeenCalled();
  });

  it("keeps serving while Keycloak is down, stops before expiry, and recovers by itself", async () => {
    const w = world();
    w.source.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(w.source.ready()).toBe(true);
    const first = await w.source.aws("s3-reader");

    w.state.keycloak = "KEYCLOAK_UNAVAILABLE";
    await vi.advanceTimersByTimeAsync(45 * MIN); // refresh due at ~39 min: the token is gone, Keycloak is down
    expect((await w.source.aws("s3-reader")).accessKeyId).toBe(first.accessKeyId);
    expect(w.source.status().find((s) => s.target === "s3-reader")).toMatchObject({
      ready: true,
      lastError: expect.stringMatching(/^KEYCLOAK_UNAVAILABLE/) as string,
    });

    await vi.advanceTimersByTimeAsync(11 * MIN); // 56 min: inside the last 5 min
    expect(await codeOf(w.source.aws("s3-reader"))).toBe("CREDENTIALS_EXPIRING");
    expect(w.source.ready()).toBe(false);

    w.state.keycloak = "ok";
    await vi.advanceTimersByTimeAsync(61_000); // next backoff step at most 60 s away
    expect(w.source.ready()).toBe(true);
    expect((await w.source.aws("s3-reader")).accessKeyId).not.toBe(first.accessKeyId);
    w.source.stop();
  });

  it("evicts after an irrecoverable STS answer and asks Keycloak for a fresh token next time", async () => {
    const w = world();
    w.source.start();
    await vi.advanceTimersByTimeAsync(0);
    w.state.sts = "AWS_REJECTED";
    await vi.advanceTimersByTimeAsync(40 * MIN);
    expect(await codeOf(w.source.aws("s3-reader"))).toBe("AWS_REJECTED");
    const status = w.source.status().find((s) => s.target === "s3-reader");
    expect(status?.ready).toBe(false);
    const tokenCalls = w.tokenSource.fetch.mock.calls.filter(([a]) => a === "aws").length;
    w.state.sts = "ok";
    await vi.advanceTimersByTimeAsync(61_000);
    expect(w.tokenSource.fetch.mock.calls.filter(([a]) => a === "aws").length).toBeGreaterThan(tokenCalls);
    expect(w.source.ready()).toBe(true);
    w.source.stop();
  });

  it("reports every target in status() and the metrics, ready only when every scope of an Azure target is", async () => {
    const w = world();
    expect(w.source.ready()).toBe(false);
    await w.source.aws("s3-reader");
    await w.source.aws("audit");
    await w.source.azure("blob");
    expect(w.source.status().map((s) => [s.target, s.ready])).toEqual([
      ["s3-reader", true],
      ["audit", true],
      ["blob", false],
    ]);
    await w.source.azure("blob", "https://vault.azure.net");
    expect(w.source.ready()).toBe(true);
    const text = await w.metrics.render();
    expect(text).toContain('cloud_broker_credentials_ready{cloud="azure",target="blob",scope="https://vault.azure.net/.default"} 1');
    expect(text).toContain('cloud_broker_credentials_expiry_seconds{cloud="aws",target="audit",scope=""} 900');
    expect(text).toMatch(/cloud_broker_upstream_duration_seconds_count\{upstream="azure"\} 2/);
  });

  it("has no workload token for a cloud with no targets", async () => {
    const result = parseBrokerConfig(CONFIG.replace(/azure:[\s\S]*$/, ""));
    if (!result.ok) throw new Error("config");
    const w = world();
    const source = createCredentialSource({
      config: result.config,
      tokenSource: w.tokenSource,
      aws: w.aws,
      logger: createLogger({ write: () => {} }),
      metrics: new MetricsRegistry(),
    });
    expect(await codeOf(source.workloadToken("azure"))).toBe("UNKNOWN_TARGET");
  });
});
