import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient, STSServiceException } from "@aws-sdk/client-sts";
import { describe, expect, it } from "vitest";
import type { StsError } from "../../../../../../deploy/local/cloud/sts/errors.ts";
import { canonicalQuery, canonicalUri, verifySigV4 } from "../../../../../../deploy/local/cloud/sts/sigv4.ts";
import { inMemoryHandler } from "../../../../../support/cloud/in-memory-handler.ts";
import { goodClaims, ROLE_ARN, sign, SUBJECT } from "../../../../../support/fixtures/cloud.ts";
import { stsHarness } from "../../../../../support/cloud/sts-harness.ts";

describe("SigV4 verification", () => {
  it("accepts the example request of the AWS SigV4 documentation (IAM ListUsers)", () => {
    const headers = new Headers({
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      host: "iam.amazonaws.com",
      "x-amz-date": "20150830T123600Z",
    });
    headers.set(
      "authorization",
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    );
    const creds = {
      secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      sessionToken: undefined,
      expiration: new Date(Date.UTC(2016, 0, 1)),
    };
    const req = { method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08", headers, body: new Uint8Array() };
    expect(verifySigV4(req, (id) => (id === "AKIDEXAMPLE" ? creds : undefined), Date.UTC(2015, 7, 30, 12, 36), "iam")).toBe(creds);
    headers.set("x-amz-date", "20150830T123601Z");
    expect(() => verifySigV4(req, () => creds, Date.UTC(2015, 7, 30, 12, 36), "iam")).toThrow(
      expect.objectContaining({ code: "SignatureDoesNotMatch" }),
    );
  });

  it.each([
    ["/", "/"],
    ["/a/b c", "/a/b%20c"],
    ["/a%2Fb", "/a%252Fb"],
    ["/a/./b/../c", "/a/c"],
  ])("canonical URI of %s is %s", (path, expected) => {
    expect(canonicalUri(path)).toBe(expected);
  });

  it("sorts and re-encodes the canonical query", () => {
    expect(canonicalQuery("b=2&a=2&a=1&c=x%20y&d=a+b&e")).toBe("a=1&a=2&b=2&c=x%20y&d=a%20b&e=");
  });

  it("lets the unmodified AWS SDK assume a role and then call GetCallerIdentity signed with the issued credentials", async () => {
    const h = await stsHarness({ realClock: true });
    const nowSec = Math.floor(Date.now() / 1000);
    const anonymous = new STSClient({ region: "us-east-1", endpoint: "http://sts.local.test", requestHandler: inMemoryHandler(h.app) });
    const assumed = await anonymous.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: ROLE_ARN,
        RoleSessionName: "sdk-unit",
        WebIdentityToken: await sign(h.key, goodClaims(nowSec)),
      }),
    );
    expect(assumed.SubjectFromWebIdentityToken).toBe(SUBJECT);
    expect(assumed.Credentials?.Expiration).toBeInstanceOf(Date);
    const c = assumed.Credentials!;

    const signed = new STSClient({
      region: "eu-west-1",
      endpoint: "http://sts.local.test",
      requestHandler: inMemoryHandler(h.app),
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
    const me = await signed.send(new GetCallerIdentityCommand({}));
    expect(me).toMatchObject({ Arn: "arn:aws:sts::111122223333:assumed-role/payments/sdk-unit", Account: "111122223333" });
    expect(me.UserId).toMatch(/^AROA[A-Z2-7]{17}:sdk-unit$/);

    const wrongSecret = new STSClient({
      region: "eu-west-1",
      endpoint: "http://sts.local.test",
      requestHandler: inMemoryHandler(h.app),
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: `${c.SecretAccessKey!}x`, sessionToken: c.SessionToken! },
      maxAttempts: 1,
    });
    const error = await wrongSecret.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(STSServiceException);
    expect((error as STSServiceException).name).toBe("SignatureDoesNotMatch");
    expect((error as STSServiceException).$metadata.httpStatusCode).toBe(403);
  });

  it.each([
    ["no Authorization header", (h: Headers) => h.delete("authorization"), "MissingAuthenticationToken"],
    [
      "an access key the emulator never issued",
      (h: Headers) =>
        h.set("authorization", h.get("authorization")!.replace(/Credential=ASIA[A-Z2-7]+/, "Credential=ASIAAAAAAAAAAAAAAAAA")),
      "InvalidClientTokenId",
    ],
    ["a wrong session token", (h: Headers) => h.set("x-amz-security-token", "forged"), "InvalidClientTokenId"],
    [
      "a tampered signature",
      (h: Headers) => h.set("authorization", h.get("authorization")!.replace(/Signature=[0-9a-f]{4}/, "Signature=0000")),
      "SignatureDoesNotMatch",
    ],
    ["a garbled Authorization header", (h: Headers) => h.set("authorization", "AWS4-HMAC-SHA256 nonsense"), "IncompleteSignature"],
  ])("refuses %s", async (_name, mutate, code) => {
    const h = await stsHarness({ realClock: true });
    const nowSec = Math.floor(Date.now() / 1000);
    const client = new STSClient({ region: "us-east-1", endpoint: "http://sts.local.test", requestHandler: inMemoryHandler(h.app) });
    const c = (
      await client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: ROLE_ARN,
          RoleSessionName: "sdk-unit",
          WebIdentityToken: await sign(h.key, goodClaims(nowSec)),
        }),
      )
    ).Credentials!;
    let captured: { headers: Headers; body: string } | undefined;
    const capture = {
      handle(request: { headers: Record<string, string>; body?: unknown }) {
        captured = { headers: new Headers(request.headers), body: String(request.body) };
        return Promise.reject(new Error("captured"));
      },
    };
    const signer = new STSClient({
      region: "us-east-1",
      endpoint: "http://sts.local.test",
      requestHandler: capture,
      maxAttempts: 1,
      credentials: { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken! },
    });
    await signer.send(new GetCallerIdentityCommand({})).catch(() => undefined);
    mutate(captured!.headers);
    const res = await h.app.request("http://sts.local.test/", { method: "POST", headers: captured!.headers, body: captured!.body });
    expect(/<Code>([^<]+)<\/Code>/.exec(await res.text())?.[1]).toBe(code);
  });

  it("refuses expired credentials with ExpiredToken and stale signatures with SignatureDoesNotMatch", () => {
    const creds = { secretAccessKey: "s", sessionToken: "t", expiration: new Date(1_000) };
    const headers = new Headers({
      host: "sts.local.test",
      "x-amz-date": "19700101T000000Z",
      "x-amz-security-token": "t",
      authorization: `AWS4-HMAC-SHA256 Credential=ASIAX/19700101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
    });
    const req = { method: "POST", path: "/", query: "", headers, body: new Uint8Array() };
    const codeOf = (now: number, c = creds) => {
      try {
        verifySigV4(req, () => c, now);
        return "OK";
      } catch (e) {
        return (e as StsError).code;
      }
    };
    expect(codeOf(2_000)).toBe("ExpiredToken");
    expect(codeOf(16 * 60_000, { ...creds, expiration: new Date(10 ** 13) })).toBe("SignatureDoesNotMatch");
  });
});
