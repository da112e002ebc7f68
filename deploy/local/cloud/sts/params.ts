/**
 * The parameter rules of AssumeRoleWithWebIdentity, from the STS service model (botocore
 * `sts/2011-06-15/service-2.json`): RoleArn `arnType` 20–2048; RoleSessionName `roleSessionNameType`
 * 2–64 matching `[\w+=,.@-]*`; WebIdentityToken `clientTokenType` 4–20000; DurationSeconds
 * `roleDurationSecondsType` 900–43200; Policy `sessionPolicyDocumentType` 1–2048 of
 * `[\u0009\u000A\u000D\u0020-\u00FF]`; PolicyArns up to 10 (`PolicyArns.member.N.arn`). Violations are
 * reported all at once, the way STS words them: `N validation error(s) detected: Value 'x' at
 * 'roleSessionName' failed to satisfy constraint: …`.
 */
import { StsError } from "./errors.ts";

export interface AssumeRoleWithWebIdentityParams {
  roleArn: string;
  roleSessionName: string;
  webIdentityToken: string;
  durationSeconds: number | undefined;
  policy: string | undefined;
  policyArns: string[];
}

const SESSION_NAME = /^[\w+=,.@-]*$/;
// The service model's own character classes include tab, LF and CR on purpose.
// eslint-disable-next-line no-control-regex
const POLICY_CHARS = /^[\u0009\u000A\u000D\u0020-\u00FF]+$/;
// eslint-disable-next-line no-control-regex
const ARN_CHARS = /^[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD]+$/u;
const MAX_POLICY_ARNS = 10;

function shown(value: string | undefined, sensitive = false): string {
  if (value === undefined) return "null";
  return sensitive ? "'***'" : `'${value}'`;
}

function lengthRule(errors: string[], field: string, value: string | undefined, min: number, max: number, sensitive = false): void {
  if (value === undefined) {
    errors.push(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
  } else if (value.length < min) {
    errors.push(
      `Value ${shown(value, sensitive)} at '${field}' failed to satisfy constraint: Member must have length greater than or equal to ${min}`,
    );
  } else if (value.length > max) {
    errors.push(
      `Value ${shown(value, sensitive)} at '${field}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
    );
  }
}

/** Validates and extracts the parameters; throws `StsError("ValidationError")` listing every violation. */
export function parseAssumeRoleWithWebIdentity(params: URLSearchParams): AssumeRoleWithWebIdentityParams {
  const errors: string[] = [];
  const get = (name: string): string | undefined => params.get(name) ?? undefined;

  const roleArn = get("RoleArn");
  lengthRule(errors, "roleArn", roleArn, 20, 2048);
  if (roleArn !== undefined && roleArn.length >= 20 && !ARN_CHARS.test(roleArn)) {
    errors.push(
      `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u007E\\u0085\\u00A0-\\uD7FF\\uE000-\\uFFFD\\u10000-\\u10FFFF]+`,
    );
  }

  const roleSessionName = get("RoleSessionName");
  lengthRule(errors, "roleSessionName", roleSessionName, 2, 64);
  if (roleSessionName !== undefined && !SESSION_NAME.test(roleSessionName)) {
    errors.push(
      `Value '${roleSessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }

  const webIdentityToken = get("WebIdentityToken");
  lengthRule(errors, "webIdentityToken", webIdentityToken, 4, 20_000, true);

  let durationSeconds: number | undefined;
  const rawDuration = get("DurationSeconds");
  if (rawDuration !== undefined) {
    if (!/^-?\d+$/.test(rawDuration)) {
      errors.push(`Value '${rawDuration}' at 'durationSeconds' failed to satisfy constraint: Member must be an integer`);
    } else {
      durationSeconds = Number(rawDuration);
      if (durationSeconds < 900)
        errors.push(
          `Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900`,
        );
      if (durationSeconds > 43_200)
        errors.push(
          `Value '${durationSeconds}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200`,
        );
    }
  }

  const policy = get("Policy");
  if (policy !== undefined) {
    lengthRule(errors, "policy", policy, 1, 2048);
    if (policy.length > 0 && !POLICY_CHARS.test(policy)) {
      errors.push(
        `Value at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\u0009\\u000A\\u000D\\u0020-\\u00FF]+`,
      );
    }
  }

  const policyArns: string[] = [];
  for (let i = 1; ; i++) {
    const arn = get(`PolicyArns.member.${i}.arn`);
    if (arn === undefined) break;
    lengthRule(errors, `policyArns.${i}.member.arn`, arn, 20, 2048);
    policyArns.push(arn);
  }
  if (policyArns.length > MAX_POLICY_ARNS) {
    errors.push(`Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_POLICY_ARNS}`);
  }

  if (errors.length > 0) {
    throw new StsError(
      "ValidationError",
      `${errors.length} validation error${errors.length > 1 ? "s" : ""} detected: ${errors.join("; ")}`,
    );
  }
  return { roleArn: roleArn!, roleSessionName: roleSessionName!, webIdentityToken: webIdentityToken!, durationSeconds, policy, policyArns };
}
