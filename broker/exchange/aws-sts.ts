/**
 * AWS exchange: the workload's Keycloak token (aud `sts.amazonaws.com`) for temporary credentials,
 * through `AssumeRoleWithWebIdentity` of `@aws-sdk/client-sts`.
 *
 * The call is unsigned (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html):
 * the SDK selects its `smithy.api#noAuth` scheme for this operation, and the client is given a
 * credential provider that throws, so it can never pick up the pod's own credentials by accident.
 * The SDK's retries are off (`maxAttempts: 1`); {@link withRetries} is the one bounded loop.
 */
import { AssumeRoleWithWebIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentials } from "../credentials.ts";
import { BrokerError } from "../errors.ts";
import { withRetries } from "./retry.ts";

export interface AssumeRoleRequest {
  roleArn: string;
  sessionName: string;
  durationSeconds: number;
  /** Compact JSON IAM policy; the session gets at most these permissions. */
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
const TRANSPORT_ERRORS = new Set(["TimeoutError", "AbortError", "ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED"]);

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
  const wireWithoutSuffix = ["InvalidIdentityTokenException", "IDPCommunicationErrorException", "IDPRejectedClaimException", "MalformedPolicyDocumentException", "PackedPolicyTooLargeException"];
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
  return new BrokerError(retryable ? "AWS_RETRYABLE" : "AWS_REJECTED", `AssumeRoleWithWebIdentity for ${roleArn} failed: ${code}`, { cause: error });
}

/** The regional STS endpoint (never the global one: regional endpoints keep working when us-east-1 does not). */
export function stsEndpoint(region: string, override?: string): string {
  return override ?? `https://sts.${region}.amazonaws.com`;
}

function accountOf(assumedRoleArn: string): string {
  return assumedRoleArn.split(":")[4] ?? "";
}

export function createStsExchanger(options: StsExchangerOptions): AwsExchanger {
  const client = new STSClient({
    region: options.region,
    endpoint: stsEndpoint(options.region, options.endpoint),
    maxAttempts: 1,
    requestHandler: { requestTimeout: options.timeoutMs, connectionTimeout: options.timeoutMs, throwOnRequestTimeout: true },
    credentials: () => Promise.reject(new Error("AssumeRoleWithWebIdentity is unsigned: the broker never resolves AWS credentials")),
  });

  async function once(request: AssumeRoleRequest): Promise<AssumedRole> {
    const out = await client.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: request.roleArn,
        RoleSessionName: request.sessionName,
        WebIdentityToken: request.webIdentityToken,
        DurationSeconds: request.durationSeconds,
        ...(request.policy !== undefined && { Policy: request.policy }),
      }),
    );
    const c = out.Credentials;
    const arn = out.AssumedRoleUser?.Arn;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date) || Number.isNaN(c.Expiration.getTime()) || !arn) {
      throw new BrokerError("AWS_RETRYABLE", `AssumeRoleWithWebIdentity for ${request.roleArn} returned an incomplete response`);
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
      accountId: accountOf(arn),
      assumedRoleArn: arn,
      ...(out.SourceIdentity && { sourceIdentity: out.SourceIdentity }),
    };
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
