/**
 * Every error the STS emulator returns, with its HTTP status and fault type, in one table.
 *
 * Sources:
 * - AssumeRoleWithWebIdentity errors and statuses: botocore `botocore/data/sts/2011-06-15/service-2.json`
 *   (shapes `*Exception` → `error.code` / `httpStatusCode`): InvalidIdentityToken 400,
 *   ExpiredTokenException 400, IDPRejectedClaim 403, IDPCommunicationError 400, MalformedPolicyDocument 400,
 *   PackedPolicyTooLarge 400, RegionDisabledException 403.
 * - Common Query API errors ("Common Errors" page of every AWS API reference): ValidationError 400,
 *   MissingAction 400, InvalidAction 400, MissingAuthenticationToken 403, InvalidClientTokenId 403,
 *   IncompleteSignature 400, InternalFailure 500, ServiceUnavailable 503, Throttling 400.
 * - SigV4 rejections as STS sends them: SignatureDoesNotMatch 403, ExpiredToken 403 (expired session
 *   credentials), AccessDenied 403.
 * Wire format: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>
 * <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>`, `text/xml`.
 */
export type StsErrorCode =
  | "InvalidIdentityToken"
  | "ExpiredTokenException"
  | "IDPRejectedClaim"
  | "IDPCommunicationError"
  | "AccessDenied"
  | "ValidationError"
  | "MalformedPolicyDocument"
  | "PackedPolicyTooLarge"
  | "MissingAction"
  | "InvalidAction"
  | "MissingAuthenticationToken"
  | "InvalidClientTokenId"
  | "IncompleteSignature"
  | "SignatureDoesNotMatch"
  | "ExpiredToken"
  | "Throttling"
  | "InternalFailure"
  | "ServiceUnavailable";

export interface StsErrorMapping {
  status: 400 | 403 | 500 | 503;
  type: "Sender" | "Receiver";
}

export const STS_ERRORS: Record<StsErrorCode, StsErrorMapping> = {
  InvalidIdentityToken: { status: 400, type: "Sender" },
  ExpiredTokenException: { status: 400, type: "Sender" },
  IDPRejectedClaim: { status: 403, type: "Sender" },
  IDPCommunicationError: { status: 400, type: "Sender" },
  AccessDenied: { status: 403, type: "Sender" },
  ValidationError: { status: 400, type: "Sender" },
  MalformedPolicyDocument: { status: 400, type: "Sender" },
  PackedPolicyTooLarge: { status: 400, type: "Sender" },
  MissingAction: { status: 400, type: "Sender" },
  InvalidAction: { status: 400, type: "Sender" },
  MissingAuthenticationToken: { status: 403, type: "Sender" },
  InvalidClientTokenId: { status: 403, type: "Sender" },
  IncompleteSignature: { status: 400, type: "Sender" },
  SignatureDoesNotMatch: { status: 403, type: "Sender" },
  ExpiredToken: { status: 403, type: "Sender" },
  Throttling: { status: 400, type: "Sender" },
  InternalFailure: { status: 500, type: "Receiver" },
  ServiceUnavailable: { status: 503, type: "Receiver" },
};

/** A rejection with the code and message STS would send. Messages never contain the token. */
export class StsError extends Error {
  override readonly name = "StsError";
  constructor(
    readonly code: StsErrorCode,
    message: string,
  ) {
    super(message);
  }
}
