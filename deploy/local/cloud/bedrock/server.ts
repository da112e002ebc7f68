/**
 * The strict Bedrock Runtime emulator as a running server, beside the STS emulator whose sessions
 * it authenticates.
 *
 * @example
 * const sts = await startStsEmulator({ trust, allowIssuerPort: true });
 * const bedrock = await startBedrockEmulator({ sts, accounts: loadCloudAccounts(file), pki, eventLogFile });
 * new BedrockRuntimeClient({ region: "us-east-1", endpoint: bedrock.url }); // or AWS_ENDPOINT_URL_BEDROCK_RUNTIME
 * bedrock.events; // CloudTrail-like records of every call
 */
import type { CloudAccounts } from "../accounts/accounts.ts";
import type { LocalPki } from "../../pki/local-pki.ts";
import { serveApp } from "../common/serve.ts";
import { systemClock, type Clock } from "../common/types.ts";
import type { FaultSlot } from "../common/fault.ts";
import type { StsEmulator } from "../sts/server.ts";
import { createBedrockApp, type BedrockFaultKind } from "./app.ts";
import { createEventLog, type CloudTrailEvent } from "./events.ts";

export interface BedrockEmulatorOptions {
  /** The STS emulator whose issued sessions sign the requests. */
  sts: Pick<StsEmulator, "session">;
  accounts: CloudAccounts;
  /** The local CA and server certificate: Bedrock is served over HTTPS, HTTP/2 and HTTP/1.1. */
  pki: LocalPki;
  /** Also append every event to this file, one JSON object per line. */
  eventLogFile?: string;
  clock?: Clock;
  port?: number;
}

export interface BedrockEmulator {
  /** Endpoint for SDK clients (`endpoint` / `AWS_ENDPOINT_URL_BEDROCK_RUNTIME`), `https://localhost:<port>`. */
  url: string;
  region: string;
  readonly events: readonly CloudTrailEvent[];
  /** Makes the next `times` authenticated calls (all, when absent) fail with this fault; `undefined` clears it. */
  setFault(kind: BedrockFaultKind | undefined, times?: number): void;
  close(): Promise<void>;
}

export async function startBedrockEmulator(opts: BedrockEmulatorOptions): Promise<BedrockEmulator> {
  const events = createEventLog(opts.eventLogFile);
  const fault: FaultSlot<BedrockFaultKind> = { kind: undefined, remaining: undefined };
  const app = createBedrockApp({
    accounts: opts.accounts,
    session: (id) => opts.sts.session(id),
    clock: opts.clock ?? systemClock,
    events,
    fault,
  });
  const served = await serveApp(app, { pki: opts.pki, port: opts.port, http2: true });
  return {
    url: served.url,
    region: opts.accounts.aws.region,
    events: events.events,
    setFault(kind, times) {
      fault.kind = kind;
      fault.remaining = kind ? times : undefined;
    },
    close: () => served.close(),
  };
}
