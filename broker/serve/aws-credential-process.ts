/**
 * AWS `credential_process`: the subcommand the SDK runs prints
 * `{"Version":1,"AccessKeyId","SecretAccessKey","SessionToken","Expiration"}` on stdout.
 * It gets the credentials from the running sidecar's container endpoint over loopback, with the
 * same secret file, so there is exactly one cache and one code path to AWS.
 *
 * Wire facts: JS v3 requires `Version === 1` and refuses an `Expiration` in the past; botocore
 * requires `Version == 1` and parses `Expiration` (RFC 3339). botocore splits the command with
 * shlex (no shell), JS runs it through a shell: the config file quotes arguments so both agree.
 * See https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html
 */
import { readFile } from "node:fs/promises";
import type { AwsCredentials } from "../credentials.ts";
import { BrokerError, isBrokerErrorCode } from "../errors.ts";
import { awsContainerUrl, rfc3339 } from "./aws-container.ts";
import { shellQuote } from "./shell-quote.ts";

/** The `credential_process` output for `creds` (one line of JSON, no trailing newline). */
export function formatCredentialProcess(
  creds: Pick<AwsCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken" | "expiration"> & { accountId?: string },
): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: creds.accessKeyId,
    SecretAccessKey: creds.secretAccessKey,
    SessionToken: creds.sessionToken,
    Expiration: rfc3339(creds.expiration),
    ...(creds.accountId ? { AccountId: creds.accountId } : {}),
  });
}

/**
 * The AWS shared config file the broker writes for this mode: `[default]` runs the default
 * target, and every target has its own `[profile <name>]`.
 */
export function awsConfigFile(command: readonly string[], targets: readonly string[], defaultTarget: string): string {
  const line = (target: string) => `credential_process = ${[...command, "--target", target].map(shellQuote).join(" ")}\n`;
  return ["[default]\n" + line(defaultTarget), ...targets.map((t) => `[profile ${t}]\n${line(t)}`)].join("\n");
}

interface ContainerBody {
  AccessKeyId?: unknown;
  SecretAccessKey?: unknown;
  Token?: unknown;
  Expiration?: unknown;
  AccountId?: unknown;
  Code?: unknown;
}

/**
 * Fetch one target's credentials from the running sidecar and return the `credential_process`
 * output. Errors are `BrokerError`s carrying the sidecar's code (or `AWS_RETRYABLE` when the
 * sidecar cannot be reached), for the CLI to turn into a message on stderr and an exit code.
 *
 * @example
 * process.stdout.write(await fetchCredentialProcess({ baseUrl: "http://127.0.0.1:8999", target: "s3-reader", authTokenFile }));
 */
export async function fetchCredentialProcess(options: {
  baseUrl: string;
  target: string;
  authTokenFile: string;
  fetch?: typeof fetch;
  timeoutMs?: number;
}): Promise<string> {
  const doFetch = options.fetch ?? fetch;
  const secret = await readFile(options.authTokenFile, "utf8").catch((cause: unknown) => {
    throw new BrokerError("CONFIG_INVALID", `cannot read the container auth token file ${options.authTokenFile}`, { cause });
  });
  const url = awsContainerUrl(options.baseUrl, options.target);
  let response: Response;
  try {
    response = await doFetch(url, { headers: { authorization: secret }, signal: AbortSignal.timeout(options.timeoutMs ?? 5000) });
  } catch (cause) {
    throw new BrokerError("AWS_RETRYABLE", `the cloud-broker sidecar at ${options.baseUrl} did not answer`, { cause });
  }
  const body = (await response.json().catch(() => ({}))) as ContainerBody;
  if (response.status !== 200) {
    const code = isBrokerErrorCode(body.Code) ? body.Code : "AWS_RETRYABLE";
    throw new BrokerError(code, `the cloud-broker sidecar answered ${response.status} (${code}) for target ${options.target}`);
  }
  const { AccessKeyId, SecretAccessKey, Token, Expiration, AccountId } = body;
  if (
    typeof AccessKeyId !== "string" ||
    typeof SecretAccessKey !== "string" ||
    typeof Token !== "string" ||
    typeof Expiration !== "string"
  ) {
    throw new BrokerError("AWS_RETRYABLE", "the cloud-broker sidecar sent a malformed credentials document");
  }
  return formatCredentialProcess({
    accessKeyId: AccessKeyId,
    secretAccessKey: SecretAccessKey,
    sessionToken: Token,
    expiration: new Date(Expiration),
    ...(typeof AccountId === "string" ? { accountId: AccountId } : {}),
  });
}
