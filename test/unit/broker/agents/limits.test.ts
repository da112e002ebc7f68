import { describe, expect, it } from "vitest";
import { agentSessionName } from "../../../../realm-config/model/conventions.ts";
import { decodeAwsCredentialsToken, encodeAwsCredentialsToken } from "../../../../broker/agents/aws-credentials-token.ts";
import { tokenBucketLimiter } from "../../../../broker/agents/rate-limit.ts";
import { memoryReplayCache } from "../../../../broker/agents/replay.ts";
import { NOW, fixedClock } from "../../../support/fixtures/agents.ts";

describe("replay cache", () => {
  it("remembers an id until its expiry, then forgets it", () => {
    const clock = fixedClock();
    const cache = memoryReplayCache({}, clock);
    expect(cache.remember("iss jti-1", NOW + 60_000)).toBe("fresh");
    expect(cache.remember("iss jti-1", NOW + 60_000)).toBe("replayed");
    expect(cache.remember("iss jti-2", NOW + 60_000)).toBe("fresh");
    clock.advance(60_001);
    expect(cache.remember("iss jti-1", NOW + 120_000)).toBe("fresh");
  });

  it("is bounded: sweeps expired ids, and refuses rather than forget a live one", () => {
    const clock = fixedClock();
    const cache = memoryReplayCache({ maxEntries: 2 }, clock);
    expect(cache.remember("a", NOW + 1_000)).toBe("fresh");
    expect(cache.remember("b", NOW + 10_000)).toBe("fresh");
    expect(cache.remember("c", NOW + 10_000)).toBe("full");
    clock.advance(1_001);
    expect(cache.remember("c", NOW + 10_000)).toBe("fresh");
    expect(cache.remember("b", NOW + 10_000)).toBe("replayed");
  });
});

describe("token bucket", () => {
  it("allows a burst, then refills at the configured rate", () => {
    const clock = fixedClock();
    const limiter = tokenBucketLimiter({ burst: 3, perSecond: 0.5 }, clock);
    expect([1, 2, 3].map(() => limiter.take("agent").allowed)).toEqual([true, true, true]);
    expect(limiter.take("agent")).toEqual({ allowed: false, retryAfterSeconds: 2 });
    clock.advance(1_000);
    expect(limiter.take("agent")).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.advance(1_000);
    expect(limiter.take("agent").allowed).toBe(true);
  });

  it("keeps one bucket per agent", () => {
    const limiter = tokenBucketLimiter({ burst: 1, perSecond: 1 }, fixedClock());
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
    expect(limiter.take("b").allowed).toBe(true);
  });

  it("is bounded: with maxKeys buckets, a new agent evicts the least recently used", () => {
    const clock = fixedClock();
    const limiter = tokenBucketLimiter({ burst: 1, perSecond: 0.001, maxKeys: 2 }, clock);
    limiter.take("a");
    limiter.take("b");
    limiter.take("c"); // evicts a (b and c are empty, a too, a is oldest)
    expect(limiter.take("b").allowed).toBe(false);
    expect(limiter.take("a").allowed).toBe(true);
  });

  it("refuses nonsense options", () => {
    expect(() => tokenBucketLimiter({ burst: 0, perSecond: 1 }, fixedClock())).toThrow(TypeError);
  });
});

describe("agentSessionName (RoleSessionName and SourceIdentity)", () => {
  const valid = /^[\w+=,.@-]{2,64}$/;

  it("is agent@workload when it fits", () => {
    expect(agentSessionName("copilot", "billing")).toBe("copilot@billing");
  });

  it("truncates long chains deterministically with a hash suffix, within 64 valid characters", () => {
    const agent = `a${"g".repeat(62)}`;
    const workload = `w${"k".repeat(62)}`;
    const name = agentSessionName(agent, workload);
    expect(name).toMatch(valid);
    expect(name).toHaveLength(64);
    expect(name).toBe(agentSessionName(agent, workload));
    expect(name).not.toBe(agentSessionName(agent, `${workload.slice(0, -1)}x`));
    expect(name.startsWith("aws:")).toBe(false);
  });
});

describe("the aws-credentials token", () => {
  it("is base64url JSON in both the credential_process and the container-credentials shape", () => {
    const token = encodeAwsCredentialsToken({
      accessKeyId: "ASIAX",
      secretAccessKey: "secret",
      sessionToken: "session",
      expiration: new Date("2026-03-01T12:30:00.123Z"),
      accountId: "111122223333",
      assumedRoleArn: "arn:aws:sts::111122223333:assumed-role/r/s",
    });
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeAwsCredentialsToken(token)).toEqual({
      Version: 1,
      AccessKeyId: "ASIAX",
      SecretAccessKey: "secret",
      SessionToken: "session",
      Token: "session",
      Expiration: "2026-03-01T12:30:00Z",
      AccountId: "111122223333",
    });
  });
});
