/**
 * The strict AWS STS emulator as a running server.
 *
 * @example
 * const sts = await startStsEmulator({ trust: loadTrustExport(dir), allowIssuerPort: true });
 * const client = new STSClient({ endpoint: sts.url, region: "us-east-1" });
 * // … assert on sts.sessions() / sts.calls, then:
 * await sts.close();
 */
import type { TrustExport } from "../../../../admin-scripts/trust/artifacts.ts";
import type { LocalPki } from "../../pki/local-pki.ts";
import { createIssuerKeys, type IssuerKeys, type IssuerKeysOptions } from "../common/issuer-keys.ts";
import { serveApp } from "../common/serve.ts";
import { systemClock, type Clock } from "../common/types.ts";
import { createStsApp, type FaultState, type StsCall, type StsFaultKind } from "./app.ts";
import { createSessionStore, type IssuedSession } from "./sessions.ts";
import { loadTrustStore } from "./trust-store.ts";

export interface StsEmulatorOptions {
  trust: TrustExport;
  /**
   * Accept IAM OIDC provider URLs with a port. Real IAM refuses them; the local Keycloak issuer has
   * one. Local use only.
   */
  allowIssuerPort?: boolean;
  clock?: Clock;
  /** Options of the issuer discovery / JWKS fetcher (injected fetch, timeout, cache). */
  issuerKeys?: IssuerKeysOptions;
  clockToleranceSec?: number;
  /** Serve HTTPS with the local server certificate instead of plain HTTP on loopback. */
  pki?: LocalPki;
  port?: number;
  /** Called with every session issued (the integration tests' log scan records its secrets). */
  onSessionIssued?: (session: IssuedSession) => void;
}

export interface StsEmulator {
  /** Endpoint for SDK clients (`endpoint` override). */
  url: string;
  close(): Promise<void>;
  /** Every request seen, in order. */
  readonly calls: readonly StsCall[];
  /** Every session issued, in order. */
  sessions(): readonly IssuedSession[];
  /** The session an access key id belongs to (how a resource API authenticates a SigV4 request). */
  session(accessKeyId: string): IssuedSession | undefined;
  /** Makes the next `times` AssumeRoleWithWebIdentity requests (all, when absent) fail with this fault; `undefined` clears it. */
  setFault(kind: StsFaultKind | undefined, times?: number): void;
  readonly issuerKeys: IssuerKeys;
}

export async function startStsEmulator(opts: StsEmulatorOptions): Promise<StsEmulator> {
  const clock = opts.clock ?? systemClock;
  const trust = loadTrustStore(opts.trust, { allowIssuerPort: opts.allowIssuerPort ?? false });
  const keys = createIssuerKeys({ clock, ...opts.issuerKeys });
  const store = createSessionStore();
  const sessions = {
    ...store,
    issue: (draft: Parameters<typeof store.issue>[0]) => {
      const session = store.issue(draft);
      opts.onSessionIssued?.(session);
      return session;
    },
  };
  const calls: StsCall[] = [];
  const fault: FaultState = { kind: undefined, remaining: undefined };
  const app = createStsApp({ trust, keys, sessions, clock, clockToleranceSec: opts.clockToleranceSec, calls, fault });
  const served = await serveApp(app, { pki: opts.pki, port: opts.port });
  return {
    url: served.url,
    close: () => served.close(),
    calls,
    sessions: () => sessions.all(),
    session: (accessKeyId) => sessions.byAccessKeyId(accessKeyId),
    setFault(kind, times) {
      fault.kind = kind;
      fault.remaining = kind ? times : undefined;
    },
    issuerKeys: keys,
  };
}
