import { describe, expect, it } from "vitest";
import type { AgentsErrorCode } from "../../../../broker/errors.ts";
import {
  ACCESS_TOKEN_TYPE,
  AWS_CREDENTIALS_TOKEN_TYPE,
  DEFAULT_LIMITS,
  JWT_TOKEN_TYPE,
  TOKEN_EXCHANGE_GRANT,
} from "../../../../broker/agents/protocol.ts";
import { parseExchangeRequest } from "../../../../broker/agents/request.ts";
import { AZ_CLIENT, ROLE, STORAGE, form } from "../../../support/fixtures/agents.ts";

const base = {
  grant_type: TOKEN_EXCHANGE_GRANT,
  subject_token: "s.s.s",
  subject_token_type: JWT_TOKEN_TYPE,
  actor_token: "a.a.a",
  actor_token_type: ACCESS_TOKEN_TYPE,
  resource: ROLE,
};

function codeOf(body: string): AgentsErrorCode | "ok" {
  try {
    parseExchangeRequest(body, DEFAULT_LIMITS);
    return "ok";
  } catch (error) {
    return (error as { code: AgentsErrorCode }).code;
  }
}

describe("parseExchangeRequest", () => {
  it("reads a complete request for an AWS role", () => {
    expect(parseExchangeRequest(form(base), DEFAULT_LIMITS)).toEqual({
      subjectToken: "s.s.s",
      subjectTokenType: JWT_TOKEN_TYPE,
      actorToken: "a.a.a",
      actorTokenType: ACCESS_TOKEN_TYPE,
      target: { cloud: "aws", roleArn: ROLE },
      scopes: [],
      issuedTokenType: AWS_CREDENTIALS_TOKEN_TYPE,
    });
  });

  it("reads an Azure identity named in audience, with a scope", () => {
    const request = parseExchangeRequest(
      form({ ...base, resource: undefined, audience: AZ_CLIENT.toUpperCase(), scope: STORAGE }),
      DEFAULT_LIMITS,
    );
    expect(request.target).toEqual({ cloud: "azure", identity: AZ_CLIENT });
    expect(request.scopes).toEqual([STORAGE]);
    expect(request.issuedTokenType).toBe(ACCESS_TOKEN_TYPE);
  });

  it("ignores unknown parameters and treats empty ones as absent (RFC 6749 §3.1, §3.2)", () => {
    expect(codeOf(form({ ...base, client_id: "x", scope: "" }))).toBe("ok");
  });

  it.each<[string, string, AgentsErrorCode]>([
    ["an empty body", "", "REQUEST_MALFORMED"],
    ["no grant_type", form({ ...base, grant_type: undefined }), "REQUEST_MALFORMED"],
    ["another grant_type", form({ ...base, grant_type: "client_credentials" }), "GRANT_TYPE_UNSUPPORTED"],
    ["a repeated grant_type", `${form(base)}&grant_type=${encodeURIComponent(TOKEN_EXCHANGE_GRANT)}`, "REQUEST_MALFORMED"],
    ["a repeated subject_token", `${form(base)}&subject_token=t.t.t`, "REQUEST_MALFORMED"],
    ["a repeated resource (two targets)", `${form(base)}&resource=${encodeURIComponent(ROLE)}`, "REQUEST_MALFORMED"],
    ["a repeated unknown parameter", `${form(base)}&x=1&x=2`, "REQUEST_MALFORMED"],
    ["a repeated empty parameter", `${form(base)}&scope=&scope=`, "REQUEST_MALFORMED"],
    ["no subject_token", form({ ...base, subject_token: undefined }), "REQUEST_MALFORMED"],
    ["no subject_token_type", form({ ...base, subject_token_type: undefined }), "REQUEST_MALFORMED"],
    [
      "a SAML subject_token_type",
      form({ ...base, subject_token_type: "urn:ietf:params:oauth:token-type:saml2" }),
      "TOKEN_TYPE_UNSUPPORTED",
    ],
    [
      "a refresh-token actor_token_type",
      form({ ...base, actor_token_type: "urn:ietf:params:oauth:token-type:refresh_token" }),
      "TOKEN_TYPE_UNSUPPORTED",
    ],
    ["no actor at all", form({ ...base, actor_token: undefined, actor_token_type: undefined }), "ACTOR_REQUIRED"],
    ["actor_token without its type", form({ ...base, actor_token_type: undefined }), "REQUEST_MALFORMED"],
    ["actor_token_type without a token", form({ ...base, actor_token: undefined }), "REQUEST_MALFORMED"],
    [
      "a subject_token over the size limit",
      form({ ...base, subject_token: "x".repeat(DEFAULT_LIMITS.maxTokenChars + 1) }),
      "TOKEN_TOO_LARGE",
    ],
    ["an actor_token over the size limit", form({ ...base, actor_token: "x".repeat(DEFAULT_LIMITS.maxTokenChars + 1) }), "TOKEN_TOO_LARGE"],
    ["no target", form({ ...base, resource: undefined }), "TARGET_INVALID"],
    ["both resource and audience", form({ ...base, audience: "storage" }), "TARGET_INVALID"],
    ["a target that is no ARN or identity", form({ ...base, resource: "https://s3.amazonaws.com/bucket" }), "TARGET_INVALID"],
    ["an ARN of a user, not a role", form({ ...base, resource: "arn:aws:iam::111122223333:user/alice" }), "TARGET_INVALID"],
    ["an ARN with a suffix", form({ ...base, resource: `${ROLE} ` }), "TARGET_INVALID"],
    ["a scope with a double space", form({ ...base, scope: "a  b" }), "SCOPE_NOT_ALLOWED"],
    ["a scope with a quote", form({ ...base, scope: 'a"b' }), "SCOPE_NOT_ALLOWED"],
    ["requested_token_type access_token for AWS", form({ ...base, requested_token_type: ACCESS_TOKEN_TYPE }), "TOKEN_TYPE_UNSUPPORTED"],
    [
      "requested_token_type aws-credentials for Azure",
      form({ ...base, resource: "storage", requested_token_type: AWS_CREDENTIALS_TOKEN_TYPE }),
      "TOKEN_TYPE_UNSUPPORTED",
    ],
  ])("refuses %s", (_name, body, code) => {
    expect(codeOf(body)).toBe(code);
  });

  it("accepts a token exactly at the size limit", () => {
    expect(codeOf(form({ ...base, subject_token: "x".repeat(DEFAULT_LIMITS.maxTokenChars) }))).toBe("ok");
  });

  it("deduplicates scopes", () => {
    expect(parseExchangeRequest(form({ ...base, resource: "storage", scope: `${STORAGE} ${STORAGE}` }), DEFAULT_LIMITS).scopes).toEqual([
      STORAGE,
    ]);
  });
});
