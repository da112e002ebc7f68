import type { Hono } from "hono";
import { createIssuerKeys } from "../../../deploy/local/cloud/common/issuer-keys.ts";
import { createStsApp, type FaultState, type StsCall } from "../../../deploy/local/cloud/sts/app.ts";
import { createSessionStore, type SessionStore } from "../../../deploy/local/cloud/sts/sessions.ts";
import { loadTrustStore } from "../../../deploy/local/cloud/sts/trust-store.ts";
import type { Clock } from "../../../deploy/local/cloud/common/types.ts";
import type { TrustExport } from "../../../admin-scripts/trust/artifacts.ts";
import { fakeIssuer, makeKey, trustExport, type FakeIssuer, type SigningKey } from "../fixtures/cloud.ts";

export interface StsHarness {
  app: Hono;
  issuer: FakeIssuer;
  key: SigningKey;
  sessions: SessionStore;
  calls: StsCall[];
  fault: FaultState;
  clock: { now: number };
  post(params: Record<string, string>): Promise<StsReply>;
}

export interface StsReply {
  status: number;
  body: string;
  /** `<Code>` of an ErrorResponse, `undefined` on success. */
  code: string | undefined;
}

/** The STS app wired to an in-memory issuer and a movable clock; requests go through `app.request`, no socket. */
export async function stsHarness(opts: { realClock?: boolean; trust?: TrustExport } = {}): Promise<StsHarness> {
  const key = await makeKey("k1");
  const issuer = fakeIssuer([key.publicJwk]);
  const clock = { now: Date.UTC(2030, 0, 1, 12, 0, 0) };
  const clockFn: Clock = opts.realClock ? () => Date.now() : () => clock.now;
  const sessions = createSessionStore();
  const calls: StsCall[] = [];
  const fault: FaultState = { kind: undefined, remaining: undefined };
  const app = createStsApp({
    trust: loadTrustStore(opts.trust ?? trustExport()),
    keys: createIssuerKeys({ fetch: issuer.fetch, clock: clockFn, refreshCooldownMs: 0 }),
    sessions,
    clock: clockFn,
    calls,
    fault,
  });
  return {
    app,
    issuer,
    key,
    sessions,
    calls,
    fault,
    clock,
    async post(params) {
      const res = await app.request("http://sts.local.test/", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
        body: new URLSearchParams(params).toString(),
      });
      const body = await res.text();
      return { status: res.status, body, code: /<Code>([^<]+)<\/Code>/.exec(body)?.[1] };
    },
  };
}
