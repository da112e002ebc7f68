/**
 * Every refusal the Azure OpenAI emulator answers, in one table, in the bodies the service sends
 * (as seen by the `openai` SDKs and Azure's own clients, e.g. `Azure/azure-sdk-for-python#40297`,
 * `MicrosoftDocs/azure-docs#114370`):
 * - a missing, invalid, expired or wrong-audience token: 401
 *   `{"statusCode":401,"message":"Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."}`
 *   (the gateway's shape, not the `error` object);
 * - a valid token whose principal has no role granting the data action: 401 `PermissionDenied`
 *   (Azure OpenAI answers 401, not 403, here);
 * - an unknown deployment: 404 `DeploymentNotFound`; an unknown path or API version: 404 `404`;
 * - a malformed body: 400 in OpenAI's `invalid_request_error` shape;
 * - throttling: 429 with `retry-after`.
 */
export type AzureOpenAiErrorCode =
  "Unauthorized" | "PermissionDenied" | "DeploymentNotFound" | "NotFound" | "InvalidRequest" | "TooManyRequests" | "InternalServerError";

export const AZURE_OPENAI_ERRORS: Record<AzureOpenAiErrorCode, 400 | 401 | 404 | 429 | 500> = {
  Unauthorized: 401,
  PermissionDenied: 401,
  DeploymentNotFound: 404,
  NotFound: 404,
  InvalidRequest: 400,
  TooManyRequests: 429,
  InternalServerError: 500,
};

export class AzureOpenAiError extends Error {
  override readonly name = "AzureOpenAiError";
  constructor(
    readonly code: AzureOpenAiErrorCode,
    message: string,
    /** For `InvalidRequest`: the request field at fault. */
    readonly param?: string,
  ) {
    super(message);
  }
}

export const UNAUTHORIZED_MESSAGE = (audience: string) =>
  `Unauthorized. Access token is missing, invalid, audience is incorrect (${audience}), or have expired.`;

/** The response body of a refusal, exactly as the service words it. */
export function errorBody(e: AzureOpenAiError): Record<string, unknown> {
  switch (e.code) {
    case "Unauthorized":
      return { statusCode: 401, message: e.message };
    case "InvalidRequest":
      return { error: { message: e.message, type: "invalid_request_error", param: e.param ?? null, code: null } };
    case "NotFound":
      return { error: { code: "404", message: e.message } };
    case "TooManyRequests":
      return { error: { code: "429", message: e.message } };
    case "InternalServerError":
      return { error: { code: "InternalServerError", message: e.message } };
    default:
      return { error: { code: e.code, message: e.message } };
  }
}
