import { SignJWT } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { AWS_SESSION_TAGS_CLAIM } from "../../../../../../realm-config/model/conventions.ts";
import {
  signRaw,
  goodClaims,
  ISSUER,
  LIKE_ROLE_ARN,
  makeKey,
  PROVIDER_ARN,
  ROLE_ARN,
  sign,
  SUBJECT,
  TAG_ROLE_ARN,
} from "../../../../../support/fixtures/cloud.ts";
import { stsHarness, type StsHarness } from "../../../../../support/cloud/sts-harness.ts";

let h: StsHarness;
let nowSec: number;
beforeEach(async () => {
  h = await stsHarness();
  nowSec = Math.floor(h.clock.now / 1000);
});

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
const TAGS = { [AWS_SESSION_TAGS_CLAIM]: { principal_tags: { team: ["payments"], env: ["prod"] }, transitive_tag_keys: ["team"] } };

function params(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    Action: "AssumeRoleWithWebIdentity",
    Version: "2011-06-15",
    RoleArn: ROLE_ARN,
    RoleSessionName: "payments-1",
    WebIdentityToken: token,
    ...extra,
  };
}

type Case = [name: string, build: () => Promise<Record<string, string>> | Record<string, string>, status: number, code: string | undefined];

const cases: Case[] = [
  ["a valid token", async () => params(await sign(h.key, goodClaims(nowSec))), 200, undefined],
  [
    "a token whose aud is not in the client-id list",
    async () => params(await sign(h.key, goodClaims(nowSec, { aud: "account" }))),
    400,
    "InvalidIdentityToken",
  ],
  [
    "an aud array that contains the client id",
    async () => params(await sign(h.key, goodClaims(nowSec, { aud: ["account", "sts.amazonaws.com"] }))),
    200,
    undefined,
  ],
  [
    "a sub the trust policy does not name",
    async () => params(await sign(h.key, goodClaims(nowSec, { sub: "workload:other" }))),
    403,
    "AccessDenied",
  ],
  ["an expired token", async () => params(await sign(h.key, goodClaims(nowSec, { exp: nowSec - 1 }))), 400, "ExpiredTokenException"],
  [
    "a token not valid before a future time",
    async () => params(await sign(h.key, goodClaims(nowSec, { nbf: nowSec + 60 }))),
    400,
    "InvalidIdentityToken",
  ],
  ["a non-integer exp", async () => params(await sign(h.key, goodClaims(nowSec, { exp: nowSec + 300.5 }))), 400, "InvalidIdentityToken"],
  ["a token without exp", async () => params(await sign(h.key, { ...goodClaims(nowSec), exp: undefined })), 400, "InvalidIdentityToken"],
  ["a token without sub", async () => params(await sign(h.key, { ...goodClaims(nowSec), sub: undefined })), 403, "IDPRejectedClaim"],
  [
    "an issuer with no IAM OIDC provider",
    async () => params(await sign(h.key, goodClaims(nowSec, { iss: "https://evil.example/realms/kcb" }))),
    400,
    "InvalidIdentityToken",
  ],
  [
    "a signature by a foreign key with the published kid",
    async () => params(await sign(await makeKey("k1"), goodClaims(nowSec))),
    400,
    "InvalidIdentityToken",
  ],
  ["an unknown kid", async () => params(await sign(await makeKey("k-unknown"), goodClaims(nowSec))), 400, "InvalidIdentityToken"],
  ["alg none", () => params(`${b64({ alg: "none", kid: "k1" })}.${b64(goodClaims(nowSec))}.`), 400, "InvalidIdentityToken"],
  [
    "HS256 keyed with the public key",
    async () =>
      params(
        await new SignJWT(goodClaims(nowSec))
          .setProtectedHeader({ alg: "HS256", kid: "k1" })
          .sign(Buffer.from(JSON.stringify(h.key.publicJwk))),
      ),
    400,
    "InvalidIdentityToken",
  ],
  [
    "a crit header",
    async () => params(await signRaw(h.key, { alg: "RS256", kid: "k1", crit: ["x-demo"], "x-demo": 1 }, goodClaims(nowSec))),
    400,
    "InvalidIdentityToken",
  ],
  ["not a JWT", () => params("not-a-jwt-at-all"), 400, "InvalidIdentityToken"],
  [
    "an ES256 token from a published EC key",
    async () => {
      const ec = await makeKey("ec1", "ES256");
      h.issuer.keys.push(ec.publicJwk);
      return params(await sign(ec, goodClaims(nowSec)));
    },
    200,
    undefined,
  ],
  [
    "a role that does not exist",
    async () => params(await sign(h.key, goodClaims(nowSec)), { RoleArn: `${ROLE_ARN}-nope` }),
    403,
    "AccessDenied",
  ],
  [
    "a malformed role ARN",
    async () => params(await sign(h.key, goodClaims(nowSec)), { RoleArn: "arn:aws:s3:::bucket/whatever" }),
    400,
    "ValidationError",
  ],
  ["tags without sts:TagSession in the trust policy", async () => params(await sign(h.key, goodClaims(nowSec, TAGS))), 403, "AccessDenied"],
  ["tags with sts:TagSession", async () => params(await sign(h.key, goodClaims(nowSec, TAGS)), { RoleArn: TAG_ROLE_ARN }), 200, undefined],
  [
    "a malformed tags claim",
    async () =>
      params(await sign(h.key, goodClaims(nowSec, { [AWS_SESSION_TAGS_CLAIM]: { principal_tags: { team: "payments" } } })), {
        RoleArn: TAG_ROLE_ARN,
      }),
    400,
    "InvalidIdentityToken",
  ],
  [
    "51 session tags",
    async () => {
      const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, ["v"]]));
      return params(await sign(h.key, goodClaims(nowSec, { [AWS_SESSION_TAGS_CLAIM]: { principal_tags: many } })), {
        RoleArn: TAG_ROLE_ARN,
      });
    },
    400,
    "InvalidIdentityToken",
  ],
  [
    "a source identity without sts:SetSourceIdentity",
    async () => params(await sign(h.key, goodClaims(nowSec, { "https://aws.amazon.com/source_identity": "alice" }))),
    403,
    "AccessDenied",
  ],
  [
    "a source identity with sts:SetSourceIdentity",
    async () =>
      params(await sign(h.key, goodClaims(nowSec, { "https://aws.amazon.com/source_identity": "alice" })), { RoleArn: TAG_ROLE_ARN }),
    200,
    undefined,
  ],
  [
    "a session name of 65 characters",
    async () => params(await sign(h.key, goodClaims(nowSec)), { RoleSessionName: "s".repeat(65) }),
    400,
    "ValidationError",
  ],
  [
    "a session name of 1 character",
    async () => params(await sign(h.key, goodClaims(nowSec)), { RoleSessionName: "s" }),
    400,
    "ValidationError",
  ],
  [
    "a session name with a space",
    async () => params(await sign(h.key, goodClaims(nowSec)), { RoleSessionName: "bad name" }),
    400,
    "ValidationError",
  ],
  ["DurationSeconds 899", async () => params(await sign(h.key, goodClaims(nowSec)), { DurationSeconds: "899" }), 400, "ValidationError"],
  [
    "DurationSeconds above the role maximum",
    async () => params(await sign(h.key, goodClaims(nowSec)), { DurationSeconds: "3601" }),
    400,
    "ValidationError",
  ],
  [
    "DurationSeconds 43200 on a 12-hour role",
    async () => params(await sign(h.key, goodClaims(nowSec)), { DurationSeconds: "43200", RoleArn: TAG_ROLE_ARN }),
    200,
    undefined,
  ],
  [
    "a session policy that is not JSON",
    async () => params(await sign(h.key, goodClaims(nowSec)), { Policy: "{nope" }),
    400,
    "MalformedPolicyDocument",
  ],
  [
    "a session policy over 2048 characters",
    async () => params(await sign(h.key, goodClaims(nowSec)), { Policy: " ".repeat(2049) }),
    400,
    "ValidationError",
  ],
  [
    "a StringLike match",
    async () => params(await sign(h.key, goodClaims(nowSec, { sub: "workload:any" })), { RoleArn: LIKE_ROLE_ARN }),
    200,
    undefined,
  ],
  [
    "an explicit Deny",
    async () => params(await sign(h.key, goodClaims(nowSec, { sub: "workload:banned" })), { RoleArn: LIKE_ROLE_ARN }),
    403,
    "AccessDenied",
  ],
  [
    "a missing WebIdentityToken",
    () => ({ Action: "AssumeRoleWithWebIdentity", Version: "2011-06-15", RoleArn: ROLE_ARN, RoleSessionName: "x1" }),
    400,
    "ValidationError",
  ],
  ["a missing Action", () => ({ Version: "2011-06-15" }), 400, "MissingAction"],
  ["an unknown version", async () => ({ ...params(await sign(h.key, goodClaims(nowSec))), Version: "2099-01-01" }), 400, "InvalidAction"],
  ["another action, unsigned", () => ({ Action: "AssumeRole", Version: "2011-06-15" }), 403, "MissingAuthenticationToken"],
];

describe("STS emulator: AssumeRoleWithWebIdentity", () => {
  const table = cases.map(([name, build, status, code]) => [name, status, code ?? "OK", build] as const);
  it.each(table)("%s → %i %s", async (_name, status, code, build) => {
    const reply = await h.post(await build());
    expect({ status: reply.status, code: reply.code ?? "OK" }).toEqual({ status, code });
    expect(h.sessions.all().length).toBe(status === 200 ? 1 : 0);
    if (code !== "OK")
      expect(reply.body).toMatch(
        /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\n {2}<Error>\n {4}<Type>Sender<\/Type>/,
      );
  });

  it("answers with the real response elements and records the session", async () => {
    const policy = JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "*" }] });
    const reply = await h.post(params(await sign(h.key, goodClaims(nowSec)), { Policy: policy, DurationSeconds: "900" }));
    expect(reply.status).toBe(200);
    const [session] = h.sessions.all();
    expect(session).toMatchObject({
      roleArn: ROLE_ARN,
      sessionName: "payments-1",
      subject: SUBJECT,
      sessionPolicy: policy,
      provider: PROVIDER_ARN,
      issuer: ISSUER,
    });
    expect(session!.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(session!.expiration.getTime()).toBe(nowSec * 1000 + 900_000);
    for (const fragment of [
      `<SubjectFromWebIdentityToken>${SUBJECT}</SubjectFromWebIdentityToken>`,
      "<Audience>sts.amazonaws.com</Audience>",
      `<Arn>arn:aws:sts::111122223333:assumed-role/payments/payments-1</Arn>`,
      `<AccessKeyId>${session!.accessKeyId}</AccessKeyId>`,
      `<Expiration>${new Date(nowSec * 1000 + 900_000).toISOString().replace(".000", "")}</Expiration>`,
      `<Provider>${PROVIDER_ARN}</Provider>`,
      "<PackedPolicySize>",
      "<ResponseMetadata>\n    <RequestId>",
    ])
      expect(reply.body).toContain(fragment);
    expect(reply.body).not.toContain("eyJ");
  });

  it("records tags, transitive keys and the source identity", async () => {
    const token = await sign(h.key, goodClaims(nowSec, { ...TAGS, "https://aws.amazon.com/source_identity": "alice" }));
    const reply = await h.post(params(token, { RoleArn: TAG_ROLE_ARN }));
    expect(reply.body).toContain("<SourceIdentity>alice</SourceIdentity>");
    expect(h.sessions.all()[0]).toMatchObject({
      tags: { team: "payments", env: "prod" },
      transitiveTagKeys: ["team"],
      sourceIdentity: "alice",
    });
  });

  it("refetches the JWKS once for an unknown kid and then finds a rotated key", async () => {
    const rotated = await makeKey("k2");
    const token = await sign(h.key, goodClaims(nowSec));
    expect((await h.post(params(token))).status).toBe(200);
    h.issuer.keys.push(rotated.publicJwk);
    expect((await h.post(params(await sign(rotated, goodClaims(nowSec))))).status).toBe(200);
    expect(h.issuer.requests.filter((u) => u.endsWith("/certs"))).toHaveLength(2);
  });

  it("answers IDPCommunicationError when the issuer cannot be reached", async () => {
    h.issuer.down = true;
    const reply = await h.post(params(await sign(h.key, goodClaims(nowSec))));
    expect({ status: reply.status, code: reply.code }).toEqual({ status: 400, code: "IDPCommunicationError" });
  });

  it("accepts GET with the parameters in the query string", async () => {
    const q = new URLSearchParams(params(await sign(h.key, goodClaims(nowSec))));
    const res = await h.app.request(`http://sts.local.test/?${q.toString()}`);
    expect(res.status).toBe(200);
  });

  it.each([
    ["throttling", 400, "Throttling"],
    ["internal-error", 500, "InternalFailure"],
    ["service-unavailable", 503, "ServiceUnavailable"],
    ["idp-communication-error", 400, "IDPCommunicationError"],
  ] as const)("injects the %s fault for the given number of requests", async (kind, status, code) => {
    h.fault.kind = kind;
    h.fault.remaining = 1;
    const token = await sign(h.key, goodClaims(nowSec));
    const first = await h.post(params(token));
    expect({ status: first.status, code: first.code }).toEqual({ status, code });
    expect((await h.post(params(token))).status).toBe(200);
  });

  it("never records the token itself", async () => {
    const token = await sign(h.key, goodClaims(nowSec));
    await h.post(params(token));
    expect(JSON.stringify(h.calls)).not.toContain(token.slice(0, 40));
    expect(h.calls[0]!.tokenSha256).toMatch(/^[0-9a-f]{12}$/);
  });
});
