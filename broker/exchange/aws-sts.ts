/**
 * AWS exchange: the workload's Keycloak token (aud `sts.amazonaws.com`) for temporary credentials,
 * through the STS Query API action `AssumeRoleWithWebIdentity`.
 *
 * The call is unsigned (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html),
 * so it is one form POST (broker/exchange/post-form.ts) and its XML answer is read here; the AWS
 * SDK is not needed, and nothing here can ever pick up the pod's own AWS credentials.
 * Errors keep the shape of the SDK's (`Code`, `$fault`, `$metadata.httpStatusCode`), so one
 * classification reads both. {@link withRetries} is the one bounded loop.
 */
import type { AwsCredentials } from "../credentials.ts";
import { BrokerError } from "../errors.ts";
import { postForm } from "./post-form.ts";
import { withRetries } from "./retry.ts";

/**
 * One AssumeRoleWithWebIdentity call, for the workload's own roles and for agents' delegations.
 * There is no SourceIdentity parameter on this API: the session's SourceIdentity comes from the
 * `https://aws.amazon.com/source_identity` claim of `webIdentityToken` (which is why the agents'
 * endpoint gets that token from a dedicated Keycloak client; see broker/agents/README.md).
 */
export interface AssumeRoleRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** IAM session policy (compact JSON, ≤ 2048 characters): the session can do at most this. */
  policy?: string;
  webIdentityToken: string;
}

/** The credentials, plus the session's `SourceIdentity` when STS reports one (delegated agent tokens carry it). */
export type AssumedRole = AwsCredentials & { sourceIdentity?: string };

/** Turns a web-identity token into AWS credentials. */
export interface AwsExchanger {
  assumeRole(request: AssumeRoleRequest): Promise<AssumedRole>;
}

export interface StsExchangerOptions {
  region: string;
  /** Defaults to the regional endpoint `https://sts.<region>.amazonaws.com`. */
  endpoint?: string;
  timeoutMs: number;
  maxAttempts: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
}

/** STS error codes (the `Code` of the Query API error) that a later retry may cure. */
const RETRYABLE_CODES = new Set([
  "IDPCommunicationError",
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "RequestThrottled",
  "InternalFailure",
  "InternalError",
  "ServiceUnavailable",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/** Node / SDK errors of the transport: nothing reached STS or nothing came back. */
const TRANSPORT_ERRORS = new Set([
  "TimeoutError",
  "AbortError",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNABORTED",
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  Code?: string;
  $fault?: "client" | "server";
  $metadata?: { httpStatusCode?: number };
}

/**
 * The STS error code of an SDK error: the Query API `Code` (`InvalidIdentityToken`, `AccessDenied`…),
 * recovered from the SDK's exception name (`InvalidIdentityTokenException` → `InvalidIdentityToken`
 * where the wire code has no `Exception` suffix), or the transport error's code.
 */
export function stsErrorCode(error: unknown): string {
  const e = (error ?? {}) as SdkErrorShape;
  const name = e.Code ?? e.name ?? "Error";
  const wireWithoutSuffix = [
    "InvalidIdentityTokenException",
    "IDPCommunicationErrorException",
    "IDPRejectedClaimException",
    "MalformedPolicyDocumentException",
    "PackedPolicyTooLargeException",
  ];
  if (wireWithoutSuffix.includes(name)) return name.replace(/Exception$/, "");
  if (typeof e.code === "string" && TRANSPORT_ERRORS.has(e.code)) return e.code;
  return name;
}

/**
 * Whether a failed AssumeRoleWithWebIdentity may succeed if retried. Only `IDPCommunicationError`,
 * throttling, 5xx and transport failures are; `InvalidIdentityToken`, `ExpiredTokenException`,
 * `IDPRejectedClaim`, `AccessDenied`, `ValidationError`, policy errors and every other 4xx are not.
 */
export function isRetryableStsError(error: unknown): boolean {
  const e = (error ?? {}) as SdkErrorShape;
  const code = stsErrorCode(error);
  if (RETRYABLE_CODES.has(code) || TRANSPORT_ERRORS.has(code)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status === 429 || (status !== undefined && status >= 500)) return true;
  if (status === undefined && e.$fault === undefined) return true; // no HTTP answer at all: a network failure
  return false;
}

/** The broker error for a failed exchange: the STS code in the message, the SDK error as cause. */
export function toBrokerError(error: unknown, roleArn: string): BrokerError {
  if (error instanceof BrokerError) return error;
  const code = stsErrorCode(error);
  const retryable = isRetryableStsError(error);
  return new BrokerError(retryable ? "AWS_RETRYABLE" : "AWS_REJECTED", `AssumeRoleWithWebIdentity for ${roleArn} failed: ${code}`, {
    cause: error,
  });
}

/** The regional STS endpoint (never the global one: regional endpoints keep working when us-east-1 does not). */
export function stsEndpoint(region: string, override?: string): string {
  return override ?? `https://sts.${region}.amazonaws.com`;
}

function accountOf(assumedRoleArn: string): string {
  return assumedRoleArn.split(":")[4] ?? "";
}

const STS_API_VERSION = "2011-06-15";

/** The text of the first `<name>` element, XML-unescaped; `undefined` when absent. */
export function xmlText(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml);
  return match?.[1]?.replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_all, e: string) => {
    const named: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };
    if (named[e] !== undefined) return named[e];
    return String.fromCodePoint(e.startsWith("#x") ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
  });
}

/** An STS error answer as an error of the SDK's shape (`<Error><Type/><Code/><Message/></Error>`). */
export function stsAnswerError(status: number, body: string): Error & SdkErrorShape {
  const code = xmlText(body, "Code") ?? (status >= 500 ? "InternalFailure" : "UnknownError");
  const error = new Error(xmlText(body, "Message") ?? `HTTP ${status}`) as Error & SdkErrorShape;
  error.name = code;
  error.Code = code;
  error.$fault = xmlText(body, "Type") === "Receiver" || status >= 500 ? "server" : "client";
  error.$metadata = { httpStatusCode: status };
  return error;
}

/** The credentials of an `AssumeRoleWithWebIdentityResponse`. */
export function parseAssumeRoleAnswer(xml: string, roleArn: string): AssumedRole {
  const accessKeyId = xmlText(xml, "AccessKeyId");
  const secretAccessKey = xmlText(xml, "SecretAccessKey");
  const sessionToken = xmlText(xml, "SessionToken");
  const expiration = new Date(xmlText(xml, "Expiration") ?? Number.NaN);
  const arn = xmlText(xml, "Arn");
  const sourceIdentity = xmlText(xml, "SourceIdentity");
  if (!accessKeyId || !secretAccessKey || !sessionToken || Number.isNaN(expiration.getTime()) || !arn) {
    throw new BrokerError("AWS_RETRYABLE", `AssumeRoleWithWebIdentity for ${roleArn} returned an incomplete response`);
  }
  return {
    accessKeyId,
    secretAccessKey,
    sessionToken,
    expiration,
    accountId: accountOf(arn),
    assumedRoleArn: arn,
    ...(sourceIdentity && { sourceIdentity }),
  };
}

export function createStsExchanger(options: StsExchangerOptions): AwsExchanger {
  const url = stsEndpoint(options.region, options.endpoint);

  async function once(request: AssumeRoleRequest): Promise<AssumedRole> {
    const form = new URLSearchParams({
      Action: "AssumeRoleWithWebIdentity",
      Version: STS_API_VERSION,
      RoleArn: request.roleArn,
      RoleSessionName: request.sessionName,
      WebIdentityToken: request.webIdentityToken,
      DurationSeconds: String(request.durationSeconds),
    });
    if (request.policy !== undefined) form.set("Policy", request.policy);
    const answer = await postForm(url, form, { timeoutMs: options.timeoutMs });
    if (answer.status !== 200) throw stsAnswerError(answer.status, answer.body);
    return parseAssumeRoleAnswer(answer.body, request.roleArn);
  }

  return {
    async assumeRole(request) {
      try {
        return await withRetries(() => once(request), {
          maxAttempts: options.maxAttempts,
          baseDelayMs: 200,
          maxDelayMs: 2_000,
          isRetryable: (e) => (e instanceof BrokerError ? e.code === "AWS_RETRYABLE" : isRetryableStsError(e)),
          ...(options.random && { random: options.random }),
          ...(options.sleep && { sleep: options.sleep }),
          ...(options.onRetry && { onRetry: options.onRetry }),
        });
      } catch (error) {
        throw toBrokerError(error, request.roleArn);
      }
    },
  };
}
