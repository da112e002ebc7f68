/**
 * The target an agent asks for, named in `resource` or `audience` (RFC 8693 §2.1):
 * - an AWS role: its ARN, `arn:aws:iam::123456789012:role/reader`;
 * - an Azure identity of the subject workload: its name in realm-config (`storage-reader`) or its
 *   client id (a GUID).
 */
export type TargetRef = { cloud: "aws"; roleArn: string } | { cloud: "azure"; identity: string };

const ROLE_ARN = /^arn:aws(-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The target named by `value`, or `undefined` when it names nothing this broker can issue for. */
export function parseTarget(value: string): TargetRef | undefined {
  if (ROLE_ARN.test(value)) return { cloud: "aws", roleArn: value };
  if (NAME.test(value)) return { cloud: "azure", identity: value };
  if (GUID.test(value)) return { cloud: "azure", identity: value.toLowerCase() };
  return undefined;
}

/** For logs and audit events. */
export function describeTarget(target: TargetRef): string {
  return target.cloud === "aws" ? target.roleArn : `azure:${target.identity}`;
}
