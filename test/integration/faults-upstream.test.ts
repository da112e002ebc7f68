/**
 * Faults upstream of a running broker core (assembled in-process exactly as `cloud-broker serve`
 * assembles it): the strict STS emulator answering throttling, 5xx and IDPCommunicationError, the
 * Entra emulator answering 429/5xx, a signing-key rotation by realm-sync while the broker runs, and
 * clocks ±2 minutes apart. Keycloak is real (its own realm on both clusters); the broker's clock is
 * moved ahead instead of waiting for an hour. Each shows: nothing served past its stop time,
 * bounded retries with jitter, recovery without a restart, nothing lost.
 */
import { createHash } from "node:crypto";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decodeProtectedHeader } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { certificateMaterial } from "../../admin-scripts/desired/signing-key.ts";
import type { AwsCredentials, AzureAccessToken } from "../../broker/credentials.ts";
import type { StsFaultKind, EntraFaultKind } from "../../deploy/local/cloud/index.ts";
import { inProcessBroker, movableClock, type InProcessBroker, type RetryRecord } from "../support/faults/source.ts";
import { waitFor } from "../support/faults/processes.ts";
import { startBrokerWorld, type BrokerWorld, type Emulators } from "../support/faults/world.ts";

const domain = inject("trustDomain");
const MIN = 60_000;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

let world: BrokerWorld;

beforeAll(async () => {
  // A short forced-refresh cool-down so the emulators fetch the rotated key within the test.
  world = await startBrokerWorld({ domain, prefix: "faults-up", issuerKeys: { refreshCooldownMs: 1_000 } });
});

afterAll(async () => {
  await world?.close();
});

type Cloud = "aws" | "azure";
type Cred = AwsCredentials | AzureAccessToken;

function get(broker: InProcessBroker, cloud: Cloud): Promise<Cred> {
  return cloud === "aws" ? broker.source.aws("main") : broker.source.azure("blob");
}
const idOf = (c: Cred) => ("accessKeyId" in c ? c.accessKeyId : sha256(c.accessToken).slice(0, 16));
const expiryOf = (c: Cred) => ("expiration" in c ? c.expiration : c.expiresOn).getTime();

/** The exchange requests the emulator received (the fault applies to them only), with their outcome. */
function exchangeCalls(emu: Emulators, cloud: Cloud): Array<{ at: number; failed: boolean }> {
  return cloud === "aws"
    ? emu.sts.calls.filter((c) => c.action === "AssumeRoleWithWebIdentity").map((c) => ({ at: c.at.getTime(), failed: c.status >= 400 }))
    : emu.entra.calls.map((c) => ({ at: c.at.getTime(), failed: c.status >= 400 }));
}

function setFault(emu: Emulators, cloud: Cloud, kind: string | undefined): void {
  if (cloud === "aws") emu.sts.setFault(kind as StsFaultKind | undefined);
  else emu.entra.setFault(kind as EntraFaultKind | undefined);
}

const statusOf = (broker: InProcessBroker, cloud: Cloud) => broker.source.status().find((s) => s.cloud === cloud)!;

describe("the clouds answering errors: bounded jittered retries, no credential past its stop time, recovery by itself", () => {
  const delays: RetryRecord[] = [];
  const MAX_ATTEMPTS = 3;

  it.each<[Cloud, string]>([
    ["aws", "throttling"],
    ["aws", "internal-error"],
    ["aws", "service-unavailable"],
    ["aws", "idp-communication-error"],
    ["azure", "throttling"],
    ["azure", "server-error"],
    ["azure", "unavailable"],
  ])("%s: %s", async (cloud, kind) => {
    const broker = inProcessBroker(
      world.config({ refresh: { retryMinSeconds: 0.2, retryMaxSeconds: 1 }, upstream: { timeoutSeconds: 10, maxAttempts: MAX_ATTEMPTS } }),
      { logName: `faults-${cloud}-${kind}` },
    );
    const a = await get(broker, cloud);
    const mark = exchangeCalls(world, cloud).length;
    const retriesMark = broker.retries.length;
    setFault(world, cloud, kind);
    try {
      // 41 min into a 1 h credential: refresh due. The cached one is served; the refresh fails in the background.
      broker.clock.advanceMs = 41 * MIN;
      expect(idOf(await get(broker, cloud))).toBe(idOf(a));
      await waitFor("the background refresh to fail", () => (statusOf(broker, cloud).lastError ? true : undefined), 15_000, 20);
      const first = exchangeCalls(world, cloud).slice(mark);
      expect(first.map((c) => c.failed)).toEqual(Array<boolean>(MAX_ATTEMPTS).fill(true)); // bounded: exactly maxAttempts calls
      expect(statusOf(broker, cloud).ready).toBe(true); // still holding valid credentials

      // Past its stop time (5 min before expiry): never served again, even though the refresh keeps failing.
      broker.clock.advanceMs = 56 * MIN;
      expect(broker.clock.now()).toBeLessThan(expiryOf(a));
      await expect(get(broker, cloud)).rejects.toMatchObject({ code: "CREDENTIALS_EXPIRING" });
      expect(exchangeCalls(world, cloud).length - mark).toBe(2 * MAX_ATTEMPTS);
      expect(statusOf(broker, cloud).ready).toBe(false);
      expect(statusOf(broker, cloud).lastError).toMatch(cloud === "aws" ? /^AWS_RETRYABLE: / : /^AZURE_RETRYABLE: /);
    } finally {
      setFault(world, cloud, undefined);
    }

    // Recovery without a restart: once the backoff has passed, the next request refreshes.
    const b = await waitFor("recovery", () => get(broker, cloud).catch(() => undefined), 10_000, 100);
    expect(idOf(b)).not.toBe(idOf(a));
    expect(expiryOf(b) - Date.now()).toBeGreaterThan(50 * MIN); // fresh (the broker's clock is 56 min ahead)
    expect(statusOf(broker, cloud).ready).toBe(true);

    // The retries the exchanger decided on, and what the emulator saw: each retry waited its jittered delay.
    const retries = broker.retries.slice(retriesMark).filter((r) => r.upstream === cloud);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 1, 2]);
    const seen = exchangeCalls(world, cloud).slice(mark, mark + 2 * MAX_ATTEMPTS);
    retries.forEach((r, i) => {
      const ceiling = 200 * 2 ** (r.attempt - 1); // full jitter in [0, base·2^(attempt−1)], base 200 ms
      expect(r.delayMs).toBeGreaterThanOrEqual(0);
      expect(r.delayMs).toBeLessThanOrEqual(ceiling);
      const refresh = Math.floor(i / 2);
      const gap = seen[refresh * MAX_ATTEMPTS + r.attempt]!.at - seen[refresh * MAX_ATTEMPTS + r.attempt - 1]!.at;
      expect(gap).toBeGreaterThanOrEqual(r.delayMs - 2);
    });
    delays.push(...retries);
    broker.source.stop();
  });

  it("the retry delays are jittered: spread out, not one fixed backoff", () => {
    expect(delays).toHaveLength(7 * 4);
    const values = delays.map((d) => d.delayMs);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
    expect(new Set(values).size).toBeGreaterThanOrEqual(values.length / 2);
    expect(sd).toBeGreaterThan(25); // full jitter over [0, 200] and [0, 400] ms: sd ≈ 95 ms
  });
});

describe("signing-key rotation while the broker runs", () => {
  it("the next refresh gets a token with the new kid, and STS and Entra (re-fetching the JWKS for an unknown kid) accept it; nothing is lost", async () => {
    const broker = inProcessBroker(world.config({ refresh: { retryMinSeconds: 0.2, retryMaxSeconds: 1 } }), {
      logName: "faults-key-rotation",
    });
    const served: string[] = [];
    const take = async (cloud: Cloud) => served.push(idOf(await get(broker, cloud)));
    await take("aws");
    await take("azure");
    const kidBefore = decodeProtectedHeader((await broker.source.workloadToken("aws")).token).kid;
    const [oldKey] = world.fx.keys;
    expect(kidBefore).toBe(certificateMaterial(oldKey!.certificatePem).kid);

    // realm-sync: a new active key, the old one passive (still published), applied to every cluster.
    const newKey = world.fx.newKey(`${world.fx.realm}-key-2`, "active");
    const newKid = certificateMaterial(newKey.certificatePem).kid;
    world.fx.writeConfig((doc) => {
      doc.signingKeys = [
        { ...oldKey!.entry, status: "passive" },
        { ...newKey.entry, status: "active" },
      ];
    });
    await world.fx.apply();
    await take("aws"); // still the cached credentials, signed-by-old-key token and all
    const stsFetches = world.sts.issuerKeys.fetchCount;
    const entraFetches = world.entra.issuerKeys.fetchCount;

    // The broker's refresh schedule comes due: first its workload tokens, then the credentials.
    broker.clock.advanceMs = 41 * MIN;
    const tokens = await Promise.all(
      (["aws", "azure"] as const).map((audience) =>
        waitFor(`a ${audience} workload token with the new kid`, async () => {
          const { token } = await broker.source.workloadToken(audience);
          return decodeProtectedHeader(token).kid === newKid ? token : undefined;
        }),
      ),
    );
    const before = { aws: served[0]!, azure: served[1]! };
    for (const cloud of ["aws", "azure"] as const) {
      const fresh = await waitFor(`${cloud} credentials from the new token`, async () => {
        const c = await get(broker, cloud);
        served.push(idOf(c));
        return idOf(c) !== before[cloud] ? c : undefined;
      });
      expect(expiryOf(fresh) - Date.now()).toBeGreaterThan(50 * MIN); // issued now (the broker's clock is 41 min ahead)
    }
    // What the clouds were handed was the new-kid token, and they had to fetch the new key to accept it.
    const [awsToken, azureToken] = tokens as [string, string];
    expect(world.sts.sessions().at(-1)!.tokenSha256).toBe(sha256(awsToken).slice(0, world.sts.sessions().at(-1)!.tokenSha256.length));
    const lastAssertion = world.entra.calls.filter((c) => c.status === 200).at(-1)!.assertionSha256!;
    expect(sha256(azureToken).startsWith(lastAssertion)).toBe(true);
    expect(world.sts.issuerKeys.fetchCount).toBeGreaterThan(stsFetches);
    expect(world.entra.issuerKeys.fetchCount).toBeGreaterThan(entraFetches);
    // Nothing lost: every request during the rotation got credentials (a failure would have thrown above).
    expect(served.length).toBeGreaterThanOrEqual(5);
    expect(broker.source.ready()).toBe(true);
    broker.source.stop();
  });
});

describe("clocks ±2 minutes apart (broker vs Keycloak and the clouds)", () => {
  // [broker's clock, the emulators' clock] relative to Keycloak's (the real clock), in minutes.
  it.each<[number, number]>([
    [+2, 0],
    [-2, 0],
    [0, +2],
    [0, -2],
    [+2, -2],
    [-2, +2],
  ])(
    "broker %i min, clouds %i min: tokens and credentials work, and none is served within a minute of its real expiry",
    async (brokerSkew, cloudSkew) => {
      const emu = await world.startEmulators({ clock: () => Date.now() + cloudSkew * MIN });
      const broker = inProcessBroker(
        world.config({ refresh: { retryMinSeconds: 0.1, retryMaxSeconds: 1 }, upstream: { timeoutSeconds: 10, maxAttempts: 1 } }, emu),
        {
          logName: `faults-skew-${brokerSkew}-${cloudSkew}`,
          clock: movableClock(brokerSkew * MIN),
        },
      );
      const aws = await broker.source.aws("main");
      const azure = await broker.source.azure("blob");

      // The clouds accept what they issued: SigV4 with the AWS credentials (checked against the skewed clock), the Azure token at the protected API.
      const sdk = new STSClient({
        endpoint: emu.sts.url,
        region: "us-east-1",
        credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey, sessionToken: aws.sessionToken },
      });
      expect((await sdk.send(new GetCallerIdentityCommand({}))).Arn).toBe(aws.assumedRoleArn);
      expect((await fetch(`${emu.entra.url}/resource/whoami`, { headers: { authorization: `Bearer ${azure.accessToken}` } })).status).toBe(
        200,
      );

      // Now the clouds fail, so the broker keeps what it has as long as it dares. Real ("world") time
      // is Keycloak's: the broker's clock reads world + brokerSkew, the clouds' expiries are in cloud time.
      emu.sts.setFault("service-unavailable");
      emu.entra.setFault("unavailable");
      for (const [cloud, held] of [
        ["aws", aws],
        ["azure", azure],
      ] as const) {
        const stopAt = expiryOf(held) - 5 * MIN; // the broker stops serving 5 min before the stated expiry
        broker.clock.advanceMs = stopAt - 5_000 - broker.clock.skewMs - Date.now();
        const last = await get(broker, cloud);
        expect(idOf(last)).toBe(idOf(held));
        const worldNow = broker.clock.now() - broker.clock.skewMs;
        const worldExpiry = expiryOf(last) - cloudSkew * MIN;
        expect(worldExpiry - worldNow).toBeGreaterThan(MIN); // 5 min − |skews| ≥ 1 min of real validity left

        broker.clock.advanceMs += 10_000;
        await expect(get(broker, cloud)).rejects.toMatchObject({ code: "CREDENTIALS_EXPIRING" });
      }
      broker.source.stop();
    },
  );
});
