/**
 * The STS Query API over HTTP (Hono): `Action=…&Version=2011-06-15` as a GET query or a
 * form-encoded POST, like `sts.amazonaws.com`. AssumeRoleWithWebIdentity is unsigned; every other
 * action (GetCallerIdentity here) must carry a valid SigV4 signature made with credentials this
 * emulator issued. Only routing, faults and the wire format live here; decisions are in the
 * modules it calls.
 */
import { Hono } from "hono";
import type { IssuerKeys } from "../common/issuer-keys.ts";
import { requestId as newRequestId, sha256Prefix } from "../common/ids.ts";
import type { Clock } from "../common/types.ts";
import { assumeRoleWithWebIdentity } from "./assume-role.ts";
import { STS_ERRORS, StsError, type StsErrorCode } from "./errors.ts";
import type { SessionStore } from "./sessions.ts";
import { verifySigV4 } from "./sigv4.ts";
import type { TrustStore } from "./trust-store.ts";
import { assumeRoleWithWebIdentityXml, errorXml, getCallerIdentityXml } from "./xml.ts";
import { takeFault } from "../common/fault.ts";

export type StsFaultKind = "throttling" | "internal-error" | "service-unavailable" | "idp-communication-error";

const FAULTS: Record<StsFaultKind, { code: StsErrorCode; message: string }> = {
  throttling: { code: "Throttling", message: "Rate exceeded" },
  "internal-error": { code: "InternalFailure", message: "An internal error occurred. Try again." },
  "service-unavailable": { code: "ServiceUnavailable", message: "Service unavailable. Try again later." },
  "idp-communication-error": {
    code: "IDPCommunicationError",
    message: "The identity provider could not be reached to verify the token; retry later",
  },
};

/** One request as the emulator saw it (no token, only its sha256 prefix). */
export interface StsCall {
  at: Date;
  action: string | undefined;
  status: number;
  code: StsErrorCode | undefined;
  requestId: string;
  roleArn: string | undefined;
  roleSessionName: string | undefined;
  tokenSha256: string | undefined;
  /** For signed actions: the access key id that signed. */
  accessKeyId: string | undefined;
}

export interface FaultState {
  kind: StsFaultKind | undefined;
  /** Requests left to fail; `undefined` = until cleared. */
  remaining: number | undefined;
}

export interface StsAppDeps {
  trust: TrustStore;
  keys: IssuerKeys;
  sessions: SessionStore;
  clock: Clock;
  clockToleranceSec?: number;
  calls: StsCall[];
  fault: FaultState;
}

const VERSION = "2011-06-15";
const MAX_BODY = 256 * 1024;

export function createStsApp(deps: StsAppDeps): Hono {
  const app = new Hono();

  app.all("/", async (c) => {
    const requestId = newRequestId();
    const url = new URL(c.req.url);
    const body = new Uint8Array(await c.req.arrayBuffer());
    const call: StsCall = {
      at: new Date(deps.clock()),
      action: undefined,
      status: 200,
      code: undefined,
      requestId,
      roleArn: undefined,
      roleSessionName: undefined,
      tokenSha256: undefined,
      accessKeyId: undefined,
    };
    deps.calls.push(call);

    const reply = (status: number, xml: string) => {
      call.status = status;
      return c.body(xml, status as 200, { "content-type": "text/xml", "x-amzn-RequestId": requestId });
    };
    const fail = (code: StsErrorCode, message: string) => {
      call.code = code;
      return reply(STS_ERRORS[code].status, errorXml(code, message, requestId));
    };

    if (body.byteLength > MAX_BODY) return fail("ValidationError", "Request body too large");
    const params = new URLSearchParams(url.search);
    const contentType = c.req.header("content-type") ?? "";
    if (c.req.method === "POST" && contentType.startsWith("application/x-www-form-urlencoded")) {
      for (const [k, v] of new URLSearchParams(Buffer.from(body).toString("utf8"))) params.append(k, v);
    } else if (c.req.method !== "GET" && c.req.method !== "POST") {
      return fail("InvalidAction", `Unsupported HTTP method ${c.req.method}`);
    }

    const action = params.get("Action") ?? undefined;
    call.action = action;
    call.roleArn = params.get("RoleArn") ?? undefined;
    call.roleSessionName = params.get("RoleSessionName") ?? undefined;
    const token = params.get("WebIdentityToken");
    if (token) call.tokenSha256 = sha256Prefix(token);

    if (!action) return fail("MissingAction", "Missing Action");
    if (params.get("Version") !== VERSION)
      return fail("InvalidAction", `Could not find operation ${action} for version ${params.get("Version") ?? "NO_VERSION_SPECIFIED"}`);

    try {
      if (action === "AssumeRoleWithWebIdentity") {
        const fault = takeFault(deps.fault);
        if (fault) return fail(FAULTS[fault].code, FAULTS[fault].message);
        const session = await assumeRoleWithWebIdentity(params, deps);
        return reply(200, assumeRoleWithWebIdentityXml(session, requestId));
      }
      // Every other action is signed: verify SigV4 first (as STS authenticates before dispatching).
      const session = verifySigV4(
        { method: c.req.method, path: url.pathname, query: url.search.replace(/^\?/, ""), headers: c.req.raw.headers, body },
        (id) => {
          call.accessKeyId = id;
          return deps.sessions.byAccessKeyId(id);
        },
        deps.clock(),
      );
      if (action === "GetCallerIdentity") return reply(200, getCallerIdentityXml(session, requestId));
      return fail("InvalidAction", `Could not find operation ${action} for version ${VERSION}`);
    } catch (error) {
      if (error instanceof StsError) return fail(error.code, error.message);
      return fail("InternalFailure", "An internal error occurred.");
    }
  });

  return app;
}
