/**
 * STS Query API response bodies, element for element as real STS sends them (STS API reference,
 * "AssumeRoleWithWebIdentity — Examples" and "GetCallerIdentity — Examples"; namespace
 * `https://sts.amazonaws.com/doc/2011-06-15/`; timestamps ISO 8601 UTC without fractions).
 */
import type { StsErrorCode } from "./errors.ts";
import { STS_ERRORS } from "./errors.ts";
import type { IssuedSession } from "./sessions.ts";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

export function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&apos;", '"': "&quot;" })[c]!);
}

export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function assumeRoleWithWebIdentityXml(s: IssuedSession, requestId: string): string {
  const optional = (name: string, value: string | number | undefined) =>
    value === undefined ? "" : `    <${name}>${escapeXml(String(value))}</${name}>\n`;
  return (
    `<AssumeRoleWithWebIdentityResponse xmlns="${NS}">\n` +
    `  <AssumeRoleWithWebIdentityResult>\n` +
    `    <SubjectFromWebIdentityToken>${escapeXml(s.subject)}</SubjectFromWebIdentityToken>\n` +
    `    <Audience>${escapeXml(s.audience)}</Audience>\n` +
    `    <AssumedRoleUser>\n` +
    `      <Arn>${escapeXml(s.assumedRoleArn)}</Arn>\n` +
    `      <AssumedRoleId>${escapeXml(s.assumedRoleId)}</AssumedRoleId>\n` +
    `    </AssumedRoleUser>\n` +
    `    <Credentials>\n` +
    `      <SessionToken>${s.sessionToken}</SessionToken>\n` +
    `      <SecretAccessKey>${s.secretAccessKey}</SecretAccessKey>\n` +
    `      <Expiration>${isoSeconds(s.expiration)}</Expiration>\n` +
    `      <AccessKeyId>${s.accessKeyId}</AccessKeyId>\n` +
    `    </Credentials>\n` +
    optional("SourceIdentity", s.sourceIdentity) +
    optional("PackedPolicySize", s.packedPolicySize) +
    `    <Provider>${escapeXml(s.provider)}</Provider>\n` +
    `  </AssumeRoleWithWebIdentityResult>\n` +
    `  <ResponseMetadata>\n` +
    `    <RequestId>${requestId}</RequestId>\n` +
    `  </ResponseMetadata>\n` +
    `</AssumeRoleWithWebIdentityResponse>\n`
  );
}

export function getCallerIdentityXml(s: IssuedSession, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${NS}">\n` +
    `  <GetCallerIdentityResult>\n` +
    `    <Arn>${escapeXml(s.assumedRoleArn)}</Arn>\n` +
    `    <UserId>${escapeXml(s.assumedRoleId)}</UserId>\n` +
    `    <Account>${s.account}</Account>\n` +
    `  </GetCallerIdentityResult>\n` +
    `  <ResponseMetadata>\n` +
    `    <RequestId>${requestId}</RequestId>\n` +
    `  </ResponseMetadata>\n` +
    `</GetCallerIdentityResponse>\n`
  );
}

export function errorXml(code: StsErrorCode, message: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${NS}">\n` +
    `  <Error>\n` +
    `    <Type>${STS_ERRORS[code].type}</Type>\n` +
    `    <Code>${code}</Code>\n` +
    `    <Message>${escapeXml(message)}</Message>\n` +
    `  </Error>\n` +
    `  <RequestId>${requestId}</RequestId>\n` +
    `</ErrorResponse>\n`
  );
}
