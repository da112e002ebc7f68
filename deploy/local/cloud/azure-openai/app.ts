/**
 * Azure OpenAI chat completions over HTTP (Hono), as `https://<account>.openai.azure.com` answers:
 *   POST /openai/deployments/{deployment}/chat/completions?api-version=YYYY-MM-DD[-preview]
 *        (what the `openai` SDKs' AzureOpenAI clients call, JS and Python)
 *   POST /openai/v1/chat/completions   (the v1 API: the deployment is the body's `model`)
 * Bearer tokens of the Entra emulator only, for the audience `https://cognitiveservices.azure.com`;
 * then Azure RBAC (the caller's role assignments on the deployment); every call is one record in
 * the activity log. Only routing, faults and the wire format live here.
 */
import { randomBytes } from "node:crypto";
import { Hono } from "hono";
import { azureAccountScope, type CloudAccounts } from "../accounts/accounts.ts";
import type { AccessTokenClaims } from "../entra/access-token.ts";
import { takeFault, type FaultSlot } from "../common/fault.ts";
import { requestId as newRequestId } from "../common/ids.ts";
import type { Clock } from "../common/types.ts";
import type { ActivityLog } from "./activity.ts";
import { chatCompletion } from "./chat.ts";
import { AZURE_OPENAI_ERRORS, AzureOpenAiError, errorBody, UNAUTHORIZED_MESSAGE } from "./errors.ts";
import { CHAT_COMPLETIONS_ACTION, isAuthorized } from "./rbac.ts";

export type AzureOpenAiFaultKind = "throttling";

/** The token audience of Azure AI services (Cognitive Services), scope `https://cognitiveservices.azure.com/.default`. */
export const COGNITIVE_SERVICES = "https://cognitiveservices.azure.com";

export interface AzureOpenAiAppDeps {
  accounts: CloudAccounts;
  /** The Entra emulator's check of its own access tokens. */
  verifyAccessToken(token: string, audience: string, atMs: number): Promise<AccessTokenClaims | undefined>;
  clock: Clock;
  activity: ActivityLog;
  fault: FaultSlot<AzureOpenAiFaultKind>;
}

const DEPLOYMENT_PATH = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/;
const V1_PATH = /^\/openai\/v1\/chat\/completions$/;
const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;
const MAX_BODY = 1024 * 1024;

export function createAzureOpenAiApp(deps: AzureOpenAiAppDeps): Hono {
  const app = new Hono();
  const accountScope = azureAccountScope(deps.accounts);

  app.all("*", async (c) => {
    const url = new URL(c.req.url);
    const now = new Date(deps.clock());
    const correlationId = c.req.header("x-ms-client-request-id") ?? newRequestId();
    const apiVersion = url.searchParams.get("api-version") ?? undefined;
    const byDeployment = DEPLOYMENT_PATH.exec(url.pathname);
    const v1 = V1_PATH.test(url.pathname);
    let claims: AccessTokenClaims | undefined;
    let deploymentName: string | undefined;
    let deployment: CloudAccounts["azure"]["deployments"][number] | undefined;

    const record = (status: number, error?: AzureOpenAiError) =>
      deps.activity.append({
        time: now.toISOString(),
        resourceId: accountScope.toUpperCase(),
        category: "RequestResponse",
        operationName: "ChatCompletions_Create",
        resultType: error ? "Failed" : "Succeeded",
        resultSignature: String(status),
        durationMs: 0,
        callerIpAddress:
          (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress?.replace(
            /^::ffff:/,
            "",
          ) ?? "127.0.0.1",
        correlationId,
        identity: { claims: claims ? { tid: claims.tid, appid: claims.appid, oid: claims.oid } : {} },
        properties: {
          apiVersion,
          modelDeploymentName: deploymentName,
          ...(deployment && { modelName: deployment.model, modelVersion: deployment.version }),
          requestPath: url.pathname,
          ...(error && { errorCode: error.code, errorMessage: error.message }),
        },
      });
    const headers = { "apim-request-id": correlationId, "x-request-id": correlationId, "x-ms-client-request-id": correlationId };

    try {
      if (c.req.method !== "POST" || (!byDeployment && !v1)) throw new AzureOpenAiError("NotFound", "Resource not found");
      if (
        byDeployment
          ? !apiVersion || !API_VERSION.test(apiVersion)
          : apiVersion !== undefined && apiVersion !== "preview" && !API_VERSION.test(apiVersion)
      ) {
        throw new AzureOpenAiError("NotFound", "Resource not found");
      }
      const raw = await c.req.arrayBuffer();
      if (raw.byteLength > MAX_BODY) throw new AzureOpenAiError("InvalidRequest", "The request body is too large.");

      if (c.req.header("api-key") !== undefined && c.req.header("authorization") === undefined) {
        // Local accounts have key authentication disabled, as a keyless deployment does.
        throw new AzureOpenAiError(
          "Unauthorized",
          "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        );
      }
      const bearer = /^Bearer ([A-Za-z0-9._-]+)$/.exec(c.req.header("authorization") ?? "");
      claims = bearer ? await deps.verifyAccessToken(bearer[1]!, COGNITIVE_SERVICES, now.getTime()) : undefined;
      if (!claims) throw new AzureOpenAiError("Unauthorized", UNAUTHORIZED_MESSAGE(COGNITIVE_SERVICES));

      const fault = takeFault(deps.fault);
      if (fault)
        throw new AzureOpenAiError(
          "TooManyRequests",
          "Requests to the ChatCompletions_Create Operation have exceeded the rate limit of your current pricing tier. Please retry after 1 second.",
        );

      let body: unknown;
      try {
        body = JSON.parse(Buffer.from(raw).toString("utf8"));
      } catch {
        throw new AzureOpenAiError("InvalidRequest", "We could not parse the JSON body of your request.");
      }
      if (byDeployment) {
        try {
          deploymentName = decodeURIComponent(byDeployment[1]!);
        } catch {
          deploymentName = byDeployment[1]!;
        }
      } else {
        const model = (body as { model?: unknown } | null)?.model;
        if (typeof model !== "string" || model === "")
          throw new AzureOpenAiError("InvalidRequest", "'model' is a required property.", "model");
        deploymentName = model;
      }
      deployment = deps.accounts.azure.deployments.find((d) => d.name === deploymentName);
      if (!deployment) {
        throw new AzureOpenAiError(
          "DeploymentNotFound",
          "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        );
      }
      const resourceId = `${accountScope}/deployments/${deployment.name}`;
      if (
        !isAuthorized(
          { tenantId: claims.tid, clientId: claims.appid, resourceId, dataAction: CHAT_COMPLETIONS_ACTION },
          deps.accounts.azure.roleAssignments,
        )
      ) {
        throw new AzureOpenAiError(
          "PermissionDenied",
          `The principal \`${claims.oid}\` lacks the required data action \`${CHAT_COMPLETIONS_ACTION}\` to perform \`POST /openai/deployments/{deployment-id}/chat/completions\` operation.`,
        );
      }
      const answer = chatCompletion(deployment, body, now, `chatcmpl-${randomBytes(15).toString("base64url")}`);
      record(200);
      return c.json(answer.response, 200, headers);
    } catch (error) {
      const e =
        error instanceof AzureOpenAiError
          ? error
          : new AzureOpenAiError("InternalServerError", "The server had an error while processing your request.");
      const status = AZURE_OPENAI_ERRORS[e.code];
      record(status, e);
      return c.json(errorBody(e), status, { ...headers, ...(e.code === "TooManyRequests" && { "retry-after": "1" }) });
    }
  });

  return app;
}
