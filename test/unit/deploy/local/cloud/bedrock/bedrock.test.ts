import { BedrockRuntimeClient, BedrockRuntimeServiceException, ConverseCommand, InvokeModelCommand } from "@aws-sdk/client-bedrock-runtime";
import { describe, expect, it } from "vitest";
import { loadCloudAccounts, parseCloudAccounts } from "../../../../../../deploy/local/cloud/accounts/accounts.ts";
import { createBedrockApp, type BedrockFaultKind } from "../../../../../../deploy/local/cloud/bedrock/app.ts";
import { createEventLog } from "../../../../../../deploy/local/cloud/bedrock/events.ts";
import { createSessionStore, type IssuedSession } from "../../../../../../deploy/local/cloud/sts/sessions.ts";
import type { FaultSlot } from "../../../../../../deploy/local/cloud/common/fault.ts";
import { inMemoryHandler } from "../../../../../support/cloud/in-memory-handler.ts";

const accounts = loadCloudAccounts(new URL("../../../../../../deploy/local/cloud/accounts/example.yaml", import.meta.url).pathname);
const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
const MICRO = "amazon.nova-micro-v1:0";
const LITE = "amazon.nova-lite-v1:0";
const PROFILE = (id: string) => `arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/${id}`;
const ONLY_MICRO = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "bedrock:InvokeModel", Resource: `arn:aws:bedrock:*::foundation-model/${MICRO}` }],
});

function harness() {
  const sessions = createSessionStore();
  const events = createEventLog();
  const clock = { now: NOW };
  const fault: FaultSlot<BedrockFaultKind> = { kind: undefined, remaining: undefined };
  const app = createBedrockApp({ accounts, session: (id) => sessions.byAccessKeyId(id), clock: () => clock.now, events, fault });
  const issue = (role: string, extra: Partial<IssuedSession> = {}) =>
    sessions.issue({
      expiration: new Date(NOW + 3600_000),
      issuedAt: new Date(NOW),
      roleArn: `arn:aws:iam::111122223333:role/${role}`,
      account: "111122223333",
      roleName: role,
      sessionName: "s1",
      subject: `workload:${role}`,
      audience: "sts.amazonaws.com",
      provider: "arn:aws:iam::111122223333:oidc-provider/issuer.example/realms/trust",
      issuer: "https://issuer.example/realms/trust",
      sessionPolicy: undefined,
      policyArns: [],
      tags: {},
      transitiveTagKeys: [],
      sourceIdentity: undefined,
      packedPolicySize: undefined,
      tokenSha256: "000000000000",
      ...extra,
    });
  const client = (creds: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new BedrockRuntimeClient({
      region: "us-east-1",
      endpoint: "https://bedrock-runtime.us-east-1.amazonaws.com",
      credentials: creds,
      requestHandler: inMemoryHandler(app),
      systemClockOffset: NOW - Date.now(),
      maxAttempts: 1,
    });
  const of = (s: IssuedSession) => client({ accessKeyId: s.accessKeyId, secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken });
  return { app, events, clock, fault, issue, client, of };
}

const hello = (modelId: string) => new ConverseCommand({ modelId, messages: [{ role: "user", content: [{ text: "hello there model" }] }] });

async function refusal(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BedrockRuntimeServiceException);
  const e = error as BedrockRuntimeServiceException;
  return { name: e.name, status: e.$metadata.httpStatusCode, message: e.message };
}

describe("Bedrock Runtime emulator with the unmodified AWS SDK", () => {
  it("answers Converse for a role its policy allows, deterministically, and logs the call", async () => {
    const h = harness();
    const s = h.issue("payments-api", { tags: { team: "payments" } });
    const out = await h.of(s).send(hello(MICRO));
    expect(out.output?.message?.content?.[0]?.text).toBe(
      `[local Bedrock emulator, no model ran] ${MICRO} received 1 message(s); the last one had 3 word(s).`,
    );
    expect(out.stopReason).toBe("end_turn");
    expect(out.usage).toEqual({ inputTokens: 3, outputTokens: 16, totalTokens: 19 });
    const [event] = h.events.events;
    expect(event).toMatchObject({
      eventSource: "bedrock.amazonaws.com",
      eventName: "Converse",
      awsRegion: "us-east-1",
      resources: [{ type: "AWS::Bedrock::FoundationModel", ARN: `arn:aws:bedrock:us-east-1::foundation-model/${MICRO}` }],
      userIdentity: {
        type: "AssumedRole",
        arn: s.assumedRoleArn,
        principalTags: { team: "payments" },
        sessionContext: { sessionIssuer: { arn: s.roleArn, userName: "payments-api" } },
      },
    });
    expect(event?.errorCode).toBeUndefined();
  });

  it("answers InvokeModel with an Amazon Nova body and the token-count headers", async () => {
    const h = harness();
    const body = JSON.stringify({
      schemaVersion: "messages-v1",
      messages: [{ role: "user", content: [{ text: "one two" }] }],
      inferenceConfig: { max_new_tokens: 4 },
    });
    const out = await h
      .of(h.issue("payments-api"))
      .send(new InvokeModelCommand({ modelId: LITE, body, contentType: "application/json", accept: "application/json" }));
    const parsed = JSON.parse(Buffer.from(out.body).toString("utf8")) as {
      stopReason: string;
      output: { message: { content: Array<{ text: string }> } };
      usage: Record<string, number>;
    };
    expect(parsed.stopReason).toBe("max_tokens");
    expect(parsed.output.message.content[0]?.text).toBe("[local Bedrock emulator, no");
    expect(parsed.usage).toMatchObject({ inputTokens: 2, outputTokens: 4, totalTokens: 6 });
    expect(h.events.events[0]?.eventName).toBe("InvokeModel");
  });

  it("evaluates the session policy: the model it allows, AccessDeniedException for another, both with the source identity", async () => {
    const h = harness();
    const s = h.issue("reporting-read", { sessionPolicy: ONLY_MICRO, sourceIdentity: "agent@workload" });
    await h.of(s).send(hello(MICRO));
    const denied = await refusal(h.of(s).send(hello(LITE)));
    expect(denied).toEqual({
      name: "AccessDeniedException",
      status: 403,
      message: `User: ${s.assumedRoleArn} is not authorized to perform: bedrock:InvokeModel on resource: arn:aws:bedrock:us-east-1::foundation-model/${LITE} because no session policy allows the bedrock:InvokeModel action`,
    });
    expect(
      h.events.events.map((e) => [e.errorCode, (e.userIdentity.sessionContext as { sourceIdentity?: string }).sourceIdentity]),
    ).toEqual([
      [undefined, "agent@workload"],
      ["AccessDeniedException", "agent@workload"],
    ]);
  });

  it("refuses a role with no identity-based policy allowing the action", async () => {
    const h = harness();
    const denied = await refusal(h.of(h.issue("legacy-etl-writer")).send(hello(LITE)));
    expect(denied.name).toBe("AccessDeniedException");
    expect(denied.message).toMatch(/because no identity-based policy allows the bedrock:InvokeModel action$/);
  });

  it.each([
    ["payments", "paymentsnova01", true],
    ["payments", "analyticsnova01", false],
    ["analytics", "analyticsnova01", true],
    ["analytics", "paymentsnova01", false],
  ])("ABAC: a session tagged team=%s invoking profile %s → allowed %s", async (team, profile, allowed) => {
    const h = harness();
    const s = h.issue("shared-audit-read", { tags: { team } });
    const sent = h.of(s).send(hello(PROFILE(profile)));
    if (allowed) {
      await sent;
      expect(h.events.events[0]?.resources.map((r) => r.type)).toEqual([
        "AWS::Bedrock::ApplicationInferenceProfile",
        "AWS::Bedrock::FoundationModel",
      ]);
    } else {
      expect((await refusal(sent)).message).toContain(`on resource: ${PROFILE(profile)} because no identity-based policy allows`);
    }
  });

  it("ABAC: the profile's base model alone is not reachable by the shared role", async () => {
    const h = harness();
    const denied = await refusal(h.of(h.issue("shared-audit-read", { tags: { team: "payments" } })).send(hello(MICRO)));
    expect(denied.name).toBe("AccessDeniedException");
  });

  it.each([
    [
      "an unknown access key",
      (s: IssuedSession) => ({ accessKeyId: "ASIAUNKNOWNUNKNOWN00", secretAccessKey: s.secretAccessKey, sessionToken: s.sessionToken }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    ],
    [
      "a tampered session token",
      (s: IssuedSession) => ({
        accessKeyId: s.accessKeyId,
        secretAccessKey: s.secretAccessKey,
        sessionToken: `${s.sessionToken.slice(0, -4)}AAAA`,
      }),
      "UnrecognizedClientException",
      "The security token included in the request is invalid.",
    ],
    [
      "a wrong secret key",
      (s: IssuedSession) => ({
        accessKeyId: s.accessKeyId,
        secretAccessKey: `x${s.secretAccessKey.slice(1)}`,
        sessionToken: s.sessionToken,
      }),
      "InvalidSignatureException",
      undefined,
    ],
  ])("refuses %s with the vendor's code", async (_what, creds, code, message) => {
    const h = harness();
    const refused = await refusal(h.client(creds(h.issue("payments-api"))).send(hello(MICRO)));
    expect(refused.name).toBe(code);
    expect(refused.status).toBe(403);
    if (message) expect(refused.message).toBe(message);
    expect(h.events.events[0]).toMatchObject({ errorCode: code, userIdentity: { type: "Unknown" } });
  });

  it("refuses expired credentials with ExpiredTokenException", async () => {
    const h = harness();
    const s = h.issue("payments-api");
    h.clock.now = NOW + 3601_000;
    const refused = await refusal(h.of(s).send(hello(MICRO)));
    expect(refused).toMatchObject({
      name: "ExpiredTokenException",
      status: 403,
      message: "The security token included in the request is expired",
    });
  });

  it("answers an unsigned request with MissingAuthenticationTokenException in the rest-json error shape", async () => {
    const h = harness();
    const res = await h.app.request(`https://bedrock-runtime.us-east-1.amazonaws.com/model/${encodeURIComponent(MICRO)}/converse`, {
      method: "POST",
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect(res.headers.get("x-amzn-errortype")).toMatch(/^MissingAuthenticationTokenException:/);
    expect(await res.json()).toEqual({ message: "Missing Authentication Token" });
  });

  it.each([
    [
      "an unknown model",
      new ConverseCommand({ modelId: "amazon.titan-unknown-v9:0", messages: [{ role: "user", content: [{ text: "x" }] }] }),
      "The provided model identifier is invalid.",
    ],
    [
      "a conversation starting with the assistant",
      new ConverseCommand({ modelId: MICRO, messages: [{ role: "assistant", content: [{ text: "x" }] }] }),
      "A conversation must start with a user message.",
    ],
    ["no messages", new ConverseCommand({ modelId: MICRO, messages: [] }), "messages: at least one message is required"],
  ])("refuses %s with ValidationException", async (_what, command, message) => {
    const h = harness();
    const refused = await refusal(h.of(h.issue("payments-api")).send(command));
    expect(refused.name).toBe("ValidationException");
    expect(refused.status).toBe(400);
    expect(refused.message).toContain(message);
  });

  it("answers injected faults with the retryable codes", async () => {
    const h = harness();
    h.fault.kind = "throttling";
    h.fault.remaining = 1;
    const s = h.issue("payments-api");
    expect((await refusal(h.of(s).send(hello(MICRO)))).name).toBe("ThrottlingException");
    await h.of(s).send(hello(MICRO));
  });
});

describe("cloud accounts fixture", () => {
  it("refuses unknown keys, bad ids and dangling references, naming each path", () => {
    const bad = {
      aws: {
        region: "us-east-1",
        foundationModels: ["amazon.nova-micro-v1:0"],
        inferenceProfiles: [{ id: "p1", account: "111122223333", model: "amazon.other-v1:0" }],
        roles: [{ arn: "not-an-arn", policies: [] }],
        extra: 1,
      },
      azure: {
        openai: { subscriptionId: "6a1f0c2e-3b4d-4e5f-8a6b-7c8d9e0f1a2b", resourceGroup: "rg", account: "acct" },
        deployments: [{ name: "d", model: "m", version: "1" }],
      },
    };
    expect(() => parseCloudAccounts(bad)).toThrow(
      /aws\.roles\.0\.arn: an IAM role ARN[\s\S]*aws: Unrecognized key: "extra"|aws: Unrecognized key[\s\S]*aws\.roles\.0\.arn/,
    );
    const dangling = { ...bad, aws: { ...bad.aws, roles: [], extra: undefined } };
    delete (dangling.aws as Record<string, unknown>).extra;
    expect(() => parseCloudAccounts(dangling)).toThrow(
      "aws.inferenceProfiles.0.model: amazon.other-v1:0 is not one of aws.foundationModels",
    );
  });
});
