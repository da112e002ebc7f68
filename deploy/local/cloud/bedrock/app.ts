/**
 * Bedrock Runtime over HTTP (Hono), as `bedrock-runtime.<region>.amazonaws.com` answers the AWS SDKs:
 *   POST /model/{modelId}/converse   Converse
 *   POST /model/{modelId}/invoke     InvokeModel
 * Every request is SigV4-signed (signing name `bedrock`) with credentials the STS emulator issued,
 * then authorized as `bedrock:InvokeModel` on the model (and inference profile) by the IAM policy
 * evaluator, then answered by the emulator. Every call, refused or not, is one event in the log.
 * Only routing, faults and the wire format live here.
 */
import { Hono } from "hono";
import type { CloudAccounts } from "../accounts/accounts.ts";
import { takeFault, type FaultSlot } from "../common/fault.ts";
import { requestId as newRequestId } from "../common/ids.ts";
import type { Clock } from "../common/types.ts";
import { StsError } from "../sts/errors.ts";
import type { IssuedSession } from "../sts/sessions.ts";
import { verifySigV4 } from "../sts/sigv4.ts";
import { authorize } from "./authorize.ts";
import { BEDROCK_ERRORS, BedrockError, errorHeaders, SIGV4_TO_BEDROCK, type BedrockErrorCode } from "./errors.ts";
import { assumedRoleIdentity, type EventLog } from "./events.ts";
import { converse, invokeModel } from "./inference.ts";
import { resolveModel } from "./models.ts";

export type BedrockFaultKind = "throttling" | "service-unavailable";

const FAULTS: Record<BedrockFaultKind, { code: BedrockErrorCode; message: string }> = {
  throttling: { code: "ThrottlingException", message: "Too many requests, please wait before trying again." },
  "service-unavailable": { code: "ServiceUnavailableException", message: "The service is unavailable. Try again later." },
};

export interface BedrockAppDeps {
  accounts: CloudAccounts;
  /** Credentials the STS emulator issued, by access key id. */
  session(accessKeyId: string): IssuedSession | undefined;
  clock: Clock;
  events: EventLog;
  fault: FaultSlot<BedrockFaultKind>;
}

const ROUTE = /^\/model\/([^/]+)\/(converse|invoke)$/;
const OPERATIONS = { converse: "Converse", invoke: "InvokeModel" } as const;
const MAX_BODY = 1024 * 1024;

/**
 * The request headers as signed: over HTTP/2 the client's host is the `:authority` pseudo-header,
 * which the web Headers of the request do not carry; the request URL's host is its value.
 */
function withAuthority(headers: Headers, host: string): { get(name: string): string | null } {
  return { get: (name) => (name === ":authority" || name === "host" ? (headers.get("host") ?? host) : headers.get(name)) };
}

export function createBedrockApp(deps: BedrockAppDeps): Hono {
  const app = new Hono();
  const region = deps.accounts.aws.region;

  app.all("*", async (c) => {
    const requestId = newRequestId();
    const url = new URL(c.req.url);
    const now = new Date(deps.clock());
    const route = c.req.method === "POST" ? ROUTE.exec(url.pathname) : null;
    const eventName = route ? OPERATIONS[route[2] as keyof typeof OPERATIONS] : "Unknown";
    let modelIdParam = "";
    try {
      modelIdParam = route ? decodeURIComponent(route[1]!) : "";
    } catch {
      modelIdParam = route![1]!;
    }
    let session: IssuedSession | undefined;
    let accessKeyId: string | undefined;
    let resources: Array<{ accountId?: string; type: string; ARN: string }> = [];
    const sourceIp =
      (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress?.replace(
        /^::ffff:/,
        "",
      ) ?? "127.0.0.1";

    const record = (error?: BedrockError) =>
      deps.events.append({
        userIdentity: session ? assumedRoleIdentity(session) : { type: "Unknown", ...(accessKeyId && { accessKeyId }) },
        eventTime: now.toISOString().replace(/\.\d{3}Z$/, "Z"),
        eventSource: "bedrock.amazonaws.com",
        eventName,
        awsRegion: region,
        sourceIPAddress: sourceIp,
        userAgent: c.req.header("user-agent") ?? "",
        ...(error && { errorCode: error.code, errorMessage: error.message }),
        requestParameters: { modelId: modelIdParam },
        requestID: requestId,
        readOnly: true,
        resources,
        managementEvent: false,
        recipientAccountId: session?.account,
      });
    const fail = (error: BedrockError) => {
      record(error);
      return c.body(JSON.stringify({ message: error.message }), BEDROCK_ERRORS[error.code].status, errorHeaders(error.code, requestId));
    };

    try {
      const body = new Uint8Array(await c.req.arrayBuffer());
      if (!route) throw new BedrockError("UnknownOperationException", "");
      try {
        session = verifySigV4(
          {
            method: c.req.method,
            path: url.pathname,
            query: url.search.replace(/^\?/, ""),
            headers: withAuthority(c.req.raw.headers, url.host),
            body,
          },
          (id) => {
            accessKeyId = id;
            return deps.session(id);
          },
          now.getTime(),
          "bedrock",
        );
      } catch (error) {
        if (!(error instanceof StsError)) throw error;
        const mapped = SIGV4_TO_BEDROCK[error.code];
        throw new BedrockError(mapped?.code ?? "InvalidSignatureException", mapped?.message ?? error.message);
      }
      const fault = takeFault(deps.fault);
      if (fault) throw new BedrockError(FAULTS[fault].code, FAULTS[fault].message);
      if (body.byteLength > MAX_BODY) throw new BedrockError("ValidationException", "Input is too long for requested model.");

      const model = resolveModel(modelIdParam, deps.accounts);
      resources = model.resources.map((r) => ({ ...(r.account && { accountId: r.account }), type: r.type, ARN: r.arn }));
      const decision = await authorize(
        {
          session,
          action: "bedrock:InvokeModel",
          resources: model.resources,
          region,
          sourceIp,
          secureTransport: url.protocol === "https:",
          now,
        },
        deps.accounts,
      );
      if (!decision.allowed) throw new BedrockError("AccessDeniedException", decision.message);

      let parsed: unknown;
      try {
        parsed = JSON.parse(Buffer.from(body).toString("utf8"));
      } catch {
        throw new BedrockError("ValidationException", "Malformed input request, please reformat your input and try again.");
      }
      if (route[2] === "converse") {
        const { response } = converse(model.modelId, parsed);
        record();
        return c.json(response, 200, { "x-amzn-RequestId": requestId });
      }
      if (!(c.req.header("content-type") ?? "application/json").startsWith("application/json")) {
        throw new BedrockError("ValidationException", "The provided content type is not supported: only application/json is.");
      }
      const { reply, response } = invokeModel(model.modelId, parsed);
      record();
      return c.json(response, 200, {
        "x-amzn-RequestId": requestId,
        "X-Amzn-Bedrock-Input-Token-Count": String(reply.inputTokens),
        "X-Amzn-Bedrock-Output-Token-Count": String(reply.outputTokens),
        "X-Amzn-Bedrock-Invocation-Latency": "0",
      });
    } catch (error) {
      if (error instanceof BedrockError) return fail(error);
      return fail(new BedrockError("InternalServerException", "An internal server error occurred. Retry your request."));
    }
  });

  return app;
}
