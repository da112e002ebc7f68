/**
 * An event log like CloudTrail's: one JSON object per call, in CloudTrail's record shape
 * (CloudTrail User Guide, "CloudTrail record contents" and "userIdentity element"): `eventName`,
 * `userIdentity` of an assumed-role session (ARN, `sessionContext.sessionIssuer`,
 * `webIdFederationData`, `sourceIdentity`), `errorCode` / `errorMessage`, `resources`.
 * One addition CloudTrail does not have: `userIdentity.principalTags`, the session tags the call was
 * authorized with (CloudTrail shows them only on the AssumeRoleWithWebIdentity event).
 * Written as JSON lines when a file is given.
 */
import { appendFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { IssuedSession } from "../sts/sessions.ts";
import { roleId } from "../sts/sessions.ts";
import { isoSeconds } from "../sts/xml.ts";

export interface CloudTrailEvent {
  eventVersion: string;
  userIdentity: Record<string, unknown>;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  errorCode?: string;
  errorMessage?: string;
  requestParameters: Record<string, unknown>;
  responseElements: null;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources: Array<{ accountId?: string; type: string; ARN: string }>;
  eventType: "AwsApiCall";
  managementEvent: boolean;
  recipientAccountId: string | undefined;
  eventCategory: "Management";
}

/** `userIdentity` of a call made with credentials of a web-identity role session. */
export function assumedRoleIdentity(s: IssuedSession): Record<string, unknown> {
  return {
    type: "AssumedRole",
    principalId: s.assumedRoleId,
    arn: s.assumedRoleArn,
    accountId: s.account,
    accessKeyId: s.accessKeyId,
    sessionContext: {
      sessionIssuer: { type: "Role", principalId: roleId(s.roleArn), arn: s.roleArn, accountId: s.account, userName: s.roleName },
      webIdFederationData: { federatedProvider: s.provider, attributes: {} },
      attributes: { creationDate: isoSeconds(s.issuedAt), mfaAuthenticated: "false" },
      ...(s.sourceIdentity !== undefined && { sourceIdentity: s.sourceIdentity }),
    },
    principalTags: { ...s.tags },
  };
}

export interface EventLog {
  readonly events: readonly CloudTrailEvent[];
  append(event: Omit<CloudTrailEvent, "eventVersion" | "eventID" | "eventType" | "eventCategory" | "responseElements">): CloudTrailEvent;
}

export function createEventLog(file?: string): EventLog {
  const events: CloudTrailEvent[] = [];
  return {
    events,
    append(partial) {
      const event: CloudTrailEvent = {
        eventVersion: "1.09",
        eventID: randomUUID(),
        eventType: "AwsApiCall",
        eventCategory: "Management",
        responseElements: null,
        ...partial,
      };
      events.push(event);
      if (file) appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
      return event;
    },
  };
}
