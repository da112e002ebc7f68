/**
 * The STS adapter against a local node:http fake that answers with real STS XML (a scripted
 * fake: it checks nothing, it only lets the real SDK parse real wire responses and errors).
 */
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createStsExchanger, isRetryableStsError, stsEndpoint, stsErrorCode } from "../../broker/exchange/aws-sts.ts";
import { roleSessionName, ROLE_SESSION_NAME } from "../../broker/exchange/role-session-name.ts";
import { startFakeSts, stsErrorXml, stsSuccessXml, type FakeSts } from "../support/fakes/sts.ts";
import { failure } from "../support/failure.ts";

let sts: FakeSts;
beforeAll(async () => {
  sts = await startFakeSts();
});
afterAll(async () => {
  await sts.close();
});

const ROLE = "arn:aws:iam::123456789012:role/s3-reader";
const request = { roleArn: ROLE, sessionName: "payments@s3", durationSeconds: 3600, webIdentityToken: "eyJhbGciOiJSUzI1NiJ9.e30.sig" };

function exchanger(delays: number[] = [], timeoutMs = 2_000) {
  return createStsExchanger({
    region: "eu-west-1",
    endpoint: sts.url,
    timeoutMs,
    maxAttempts: 3,
    random: () => 1,
    sleep: (ms) => {
      delays.push(ms);
      return Promise.resolve();
    },
  });
}

describe("roleSessionName", () => {
  it.each([
    ["payments-api", "s3-reader", "payments-api@s3-reader"],
    ["svc:payments/api", "s3", "svc-payments-api@s3"],
    ["a", "b", "a@b"],
  ])("%s + %s → %s", (clientId, target, expected) => {
    expect(roleSessionName(clientId, target)).toBe(expected);
  });

  it("cuts long names to 64 characters keeping them distinct and deterministic", () => {
    const a = roleSessionName("x".repeat(80), "s3-reader");
    const b = roleSessionName("x".repeat(80), "s3-writer");
    expect(a).toHaveLength(64);
    expect(a).toMatch(ROLE_SESSION_NAME);
    expect(a).not.toBe(b);
    expect(roleSessionName("x".repeat(80), "s3-reader")).toBe(a);
  });
});

describe("createStsExchanger against an STS wire fake", () => {
  it("sends an unsigned AssumeRoleWithWebIdentity and parses the credentials", async () => {
    const expiration = new Date(Date.now() + 3_600_000);
    sts.reply({ status: 200, body: stsSuccessXml({ expiration, session: "payments@s3" }) });
    const creds = await exchanger().assumeRole({ ...request, policy: '{"Version":"2012-10-17","Statement":[]}' });
    expect(creds).toEqual({
      accessKeyId: "ASIAEXAMPLEKEYID0001",
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
      sessionToken: "FQoGZXIvYXdzEXAMPLESESSIONTOKEN",
      expiration: new Date(Math.floor(expiration.getTime() / 1000) * 1000),
      accountId: "123456789012",
      assumedRoleArn: "arn:aws:sts::123456789012:assumed-role/s3-reader/payments@s3",
    });
    const call = sts.calls.at(-1)!;
    expect(call.headers.authorization).toBeUndefined();
    expect(Object.fromEntries(call.params)).toEqual({
      Action: "AssumeRoleWithWebIdentity",
      Version: "2011-06-15",
      RoleArn: ROLE,
      RoleSessionName: "payments@s3",
      WebIdentityToken: request.webIdentityToken,
      DurationSeconds: "3600",
      Policy: '{"Version":"2012-10-17","Statement":[]}',
    });
  });

  it.each([
    // code, HTTP status, broker code, attempts
    ["InvalidIdentityToken", 400, "AWS_REJECTED", 1],
    ["ExpiredTokenException", 400, "AWS_REJECTED", 1],
    ["IDPRejectedClaim", 403, "AWS_REJECTED", 1],
    ["AccessDenied", 403, "AWS_REJECTED", 1],
    ["ValidationError", 400, "AWS_REJECTED", 1],
    ["MalformedPolicyDocument", 400, "AWS_REJECTED", 1],
    ["PackedPolicyTooLarge", 400, "AWS_REJECTED", 1],
    ["RegionDisabledException", 403, "AWS_REJECTED", 1],
    ["IDPCommunicationError", 400, "AWS_RETRYABLE", 3],
    ["Throttling", 400, "AWS_RETRYABLE", 3],
    ["InternalFailure", 500, "AWS_RETRYABLE", 3],
    ["ServiceUnavailable", 503, "AWS_RETRYABLE", 3],
  ] as const)("%s (HTTP %i) → %s after %i attempt(s)", async (code, status, brokerCode, attempts) => {
    const before = sts.calls.length;
    const delays: number[] = [];
    sts.reply({ status, body: stsErrorXml(code, "detail that stays in the cause", status >= 500 ? "Receiver" : "Sender") });
    const error = await failure(exchanger(delays).assumeRole(request));
    expect(error.code).toBe(brokerCode);
    expect(error.message).toBe(`AssumeRoleWithWebIdentity for ${ROLE} failed: ${code}`);
    expect(stsErrorCode(error.cause)).toBe(code);
    expect(sts.calls.length - before).toBe(attempts);
    expect(delays).toHaveLength(attempts - 1);
    expect(delays.every((d, i) => d <= Math.min(2_000, 200 * 2 ** i))).toBe(true);
  });

  it("succeeds when a retryable error clears up within the attempts", async () => {
    sts.reply(
      { status: 400, body: stsErrorXml("IDPCommunicationError", "could not reach the issuer") },
      { status: 200, body: stsSuccessXml({ expiration: new Date(Date.now() + 3_600_000) }) },
    );
    await expect(exchanger().assumeRole(request)).resolves.toMatchObject({ accountId: "123456789012" });
  });

  it("treats a refused connection as retryable", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const x = createStsExchanger({
      region: "eu-west-1",
      endpoint: `http://127.0.0.1:${port}`,
      timeoutMs: 1_000,
      maxAttempts: 2,
      sleep: () => Promise.resolve(),
    });
    const error = await failure(x.assumeRole(request));
    expect(error.code).toBe("AWS_RETRYABLE");
    expect(isRetryableStsError(error.cause)).toBe(true);
  });

  it("gives up on a hanging STS after the timeout, as retryable", async () => {
    sts.reply("hang");
    const before = sts.calls.length;
    const started = Date.now();
    const error = await failure(exchanger([], 300).assumeRole(request));
    expect(error.code).toBe("AWS_RETRYABLE");
    expect(sts.calls.length - before).toBe(3);
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it("uses the regional endpoint unless overridden", () => {
    expect(stsEndpoint("ap-southeast-2")).toBe("https://sts.ap-southeast-2.amazonaws.com");
    expect(stsEndpoint("ap-southeast-2", "http://127.0.0.1:4566")).toBe("http://127.0.0.1:4566");
  });
});
