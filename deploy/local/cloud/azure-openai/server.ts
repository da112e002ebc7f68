/**
 * The strict Azure OpenAI emulator as a running HTTPS server, beside the Entra emulator whose
 * access tokens it accepts.
 *
 * @example
 * const entra = await startEntraEmulator({ trust, pki });
 * const openai = await startAzureOpenAiEmulator({ entra, accounts: loadCloudAccounts(file), pki });
 * // AZURE_OPENAI_ENDPOINT=openai.url, OPENAI_API_VERSION=openai.apiVersion, scope `${openai.resource}/.default`
 * openai.activity; // one record per call
 */
import type { CloudAccounts } from "../accounts/accounts.ts";
import type { LocalPki } from "../../pki/local-pki.ts";
import type { FaultSlot } from "../common/fault.ts";
import { serveApp } from "../common/serve.ts";
import { systemClock, type Clock } from "../common/types.ts";
import type { EntraEmulator } from "../entra/server.ts";
import { createActivityLog, type ActivityRecord } from "./activity.ts";
import { COGNITIVE_SERVICES, createAzureOpenAiApp, type AzureOpenAiFaultKind } from "./app.ts";

export interface AzureOpenAiEmulatorOptions {
  entra: Pick<EntraEmulator, "verifyAccessToken">;
  accounts: CloudAccounts;
  pki: LocalPki;
  /** Also append every activity record to this file, one JSON object per line. */
  activityLogFile?: string;
  clock?: Clock;
  port?: number;
}

export interface AzureOpenAiEmulator {
  /** The endpoint (`AZURE_OPENAI_ENDPOINT`), `https://localhost:<port>`. */
  url: string;
  /** The token audience; request the scope `${resource}/.default`. */
  resource: string;
  /** A GA API version the emulator accepts (`OPENAI_API_VERSION`). */
  apiVersion: string;
  readonly activity: readonly ActivityRecord[];
  setFault(kind: AzureOpenAiFaultKind | undefined, times?: number): void;
  close(): Promise<void>;
}

export async function startAzureOpenAiEmulator(opts: AzureOpenAiEmulatorOptions): Promise<AzureOpenAiEmulator> {
  const activity = createActivityLog(opts.activityLogFile);
  const fault: FaultSlot<AzureOpenAiFaultKind> = { kind: undefined, remaining: undefined };
  const app = createAzureOpenAiApp({
    accounts: opts.accounts,
    verifyAccessToken: (t, a, at) => opts.entra.verifyAccessToken(t, a, at),
    clock: opts.clock ?? systemClock,
    activity,
    fault,
  });
  const served = await serveApp(app, { pki: opts.pki, port: opts.port });
  return {
    url: served.url,
    resource: COGNITIVE_SERVICES,
    apiVersion: "2024-10-21",
    activity: activity.records,
    setFault(kind, times) {
      fault.kind = kind;
      fault.remaining = kind ? times : undefined;
    },
    close: () => served.close(),
  };
}
