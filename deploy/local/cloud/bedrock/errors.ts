/**
 * Every error the Bedrock Runtime emulator answers, with its HTTP status, in one table.
 *
 * Sources:
 * - Operation errors: botocore `data/bedrock-runtime/2023-09-30/service-2.json` (protocol rest-json,
 *   shapes `*Exception` → `error.httpStatusCode`): AccessDeniedException 403, ValidationException 400,
 *   ResourceNotFoundException 404, ThrottlingException 429, ServiceUnavailableException 503,
 *   InternalServerException 500.
 * - Authentication errors of the AWS JSON front (not in the model; the "Common Errors" page and what
 *   the service sends): UnrecognizedClientException 403 (unknown access key or session token),
 *   ExpiredTokenException 403, InvalidSignatureException 403, IncompleteSignatureException 400,
 *   MissingAuthenticationTokenException 403.
 * Wire format (rest-json): status, header `x-amzn-ErrorType: <Code>:http://internal.amazon.com/coral/…/`,
 * body `{"message":"…"}`; the SDKs take the code from the header (up to the first `:`).
 */
import type { StsErrorCode } from "../sts/errors.ts";

export type BedrockErrorCode =
  | "AccessDeniedException"
  | "ValidationException"
  | "ResourceNotFoundException"
  | "ThrottlingException"
  | "ServiceUnavailableException"
  | "InternalServerException"
  | "UnrecognizedClientException"
  | "ExpiredTokenException"
  | "InvalidSignatureException"
  | "IncompleteSignatureException"
  | "MissingAuthenticationTokenException"
  | "UnknownOperationException";

export const BEDROCK_ERRORS: Record<BedrockErrorCode, { status: 400 | 403 | 404 | 429 | 500 | 503; namespace: string }> = {
  AccessDeniedException: { status: 403, namespace: "com.amazon.bedrock" },
  ValidationException: { status: 400, namespace: "com.amazon.bedrock" },
  ResourceNotFoundException: { status: 404, namespace: "com.amazon.bedrock" },
  ThrottlingException: { status: 429, namespace: "com.amazon.bedrock" },
  ServiceUnavailableException: { status: 503, namespace: "com.amazon.bedrock" },
  InternalServerException: { status: 500, namespace: "com.amazon.bedrock" },
  UnrecognizedClientException: { status: 403, namespace: "com.amazon.coral.service" },
  ExpiredTokenException: { status: 403, namespace: "com.amazon.coral.service" },
  InvalidSignatureException: { status: 403, namespace: "com.amazon.coral.service" },
  IncompleteSignatureException: { status: 400, namespace: "com.amazon.coral.service" },
  MissingAuthenticationTokenException: { status: 403, namespace: "com.amazon.coral.service" },
  UnknownOperationException: { status: 404, namespace: "com.amazon.coral.service" },
};

/** A refusal with the code and message Bedrock would send. Messages never contain a secret. */
export class BedrockError extends Error {
  override readonly name = "BedrockError";
  constructor(
    readonly code: BedrockErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The shared SigV4 verifier speaks in STS's Query-API codes; the JSON services of AWS answer the
 * same failures with these codes and messages.
 */
export const SIGV4_TO_BEDROCK: Partial<Record<StsErrorCode, { code: BedrockErrorCode; message?: string }>> = {
  MissingAuthenticationToken: { code: "MissingAuthenticationTokenException", message: "Missing Authentication Token" },
  IncompleteSignature: { code: "IncompleteSignatureException" },
  InvalidClientTokenId: { code: "UnrecognizedClientException", message: "The security token included in the request is invalid." },
  ExpiredToken: { code: "ExpiredTokenException", message: "The security token included in the request is expired" },
  SignatureDoesNotMatch: { code: "InvalidSignatureException" },
};

export function errorHeaders(code: BedrockErrorCode, requestId: string): Record<string, string> {
  return {
    "content-type": "application/json",
    "x-amzn-RequestId": requestId,
    "x-amzn-ErrorType": `${code}:http://internal.amazon.com/coral/${BEDROCK_ERRORS[code].namespace}/`,
  };
}
