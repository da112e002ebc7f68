/**
 * The emulator's activity log: one record per data-plane call, in the shape of Azure Monitor resource
 * logs of a Cognitive Services account (category `RequestResponse`: `time`, `resourceId`,
 * `operationName`, `resultType`, `resultSignature`, `callerIpAddress`, `correlationId`,
 * `properties`), plus `identity.claims` (`tid`, `appid`, `oid`) so a reader sees who called.
 * Written as JSON lines when a file is given.
 */
import { appendFileSync } from "node:fs";

export interface ActivityRecord {
  time: string;
  resourceId: string;
  category: "RequestResponse";
  operationName: string;
  resultType: "Succeeded" | "Failed";
  resultSignature: string;
  durationMs: number;
  callerIpAddress: string;
  correlationId: string;
  identity: { claims: { tid?: string; appid?: string; oid?: string } };
  properties: {
    apiVersion: string | undefined;
    modelDeploymentName: string | undefined;
    modelName?: string;
    modelVersion?: string;
    requestPath: string;
    errorCode?: string;
    errorMessage?: string;
  };
}

export interface ActivityLog {
  readonly records: readonly ActivityRecord[];
  append(record: ActivityRecord): void;
}

export function createActivityLog(file?: string): ActivityLog {
  const records: ActivityRecord[] = [];
  return {
    records,
    append(record) {
      records.push(record);
      if (file) appendFileSync(file, `${JSON.stringify(record)}\n`, { mode: 0o600 });
    },
  };
}
