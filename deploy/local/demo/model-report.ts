/**
 * The demo report's model section, read from the local clouds' own logs (JSON lines): the Bedrock
 * emulator's CloudTrail-like events and the Azure OpenAI emulator's activity records. Each line says
 * who called which model, as whom (the role session or the Entra app), for whom (the source
 * identity an agent's session carries) and what the cloud decided. Pure apart from reading the files.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ActivityRecord, CloudTrailEvent } from "../cloud/index.ts";

function readJsonLines<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as T);
}

/** `arn:aws:sts::…:assumed-role/<role>/<session>` → `assumed-role/<role>/<session>` */
const shortArn = (arn: string) => arn.replace(/^arn:aws:sts::\d+:/, "");

export function bedrockLines(events: readonly CloudTrailEvent[]): string[] {
  return events.map((e) => {
    const identity = e.userIdentity as {
      arn?: string;
      principalTags?: Record<string, string>;
      sessionContext?: { sourceIdentity?: string };
    };
    const session = identity.arn?.split("/").pop() ?? "?";
    const caller = session.split("@")[0] ?? session;
    const source = identity.sessionContext?.sourceIdentity;
    const forWhom = source ? `for ${source.split("@").pop() ?? source} (source identity ${source})` : "for itself";
    const model = String(e.requestParameters.modelId);
    const tags = Object.entries(identity.principalTags ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    const outcome = e.errorCode ? `DENIED ${e.errorCode}` : "allowed";
    return `    ${caller.padEnd(17)} Bedrock ${e.eventName} ${model.padEnd(24)} as ${identity.arn ? shortArn(identity.arn) : "(unknown credentials)"}  ${forWhom}${tags ? `  tags ${tags}` : ""}  → ${outcome}`;
  });
}

export function azureOpenAiLines(records: readonly ActivityRecord[], identities: ReadonlyMap<string, string>): string[] {
  return records.map((r) => {
    const app = r.identity.claims.appid;
    const who = app ? (identities.get(app.toLowerCase()) ?? `app ${app}`) : "(no valid token)";
    const outcome = r.resultType === "Succeeded" ? "allowed" : `DENIED ${r.resultSignature} ${r.properties.errorCode ?? ""}`.trimEnd();
    return `    ${who.padEnd(17)} Azure OpenAI ${String(r.properties.modelDeploymentName).padEnd(12)} as Entra app ${app ?? "?"} (object ${r.identity.claims.oid ?? "?"})  → ${outcome}`;
  });
}

/** The report section; `identities` maps an Entra client id to `<identity> of <workload>`. */
export function modelReport(logs: { bedrock: string; azureOpenAi: string }, identities: ReadonlyMap<string, string>): string {
  const events = readJsonLines<CloudTrailEvent>(logs.bedrock);
  const records = readJsonLines<ActivityRecord>(logs.azureOpenAi);
  return [
    `  who called which model, as whom, for whom — from the clouds' logs:`,
    `   Bedrock (CloudTrail-like events, ${logs.bedrock}):`,
    ...bedrockLines(events),
    `   Azure OpenAI (activity log, ${logs.azureOpenAi}; an agent calls with its workload's identity, so Azure cannot tell them apart):`,
    ...azureOpenAiLines(records, identities),
  ].join("\n");
}
