/**
 * `cloud-broker credential-process --target <name>`: what the AWS SDK runs for a
 * `credential_process` profile. It asks the running sidecar (one cache, one path to AWS) and prints
 * the `Version: 1` JSON; on failure the SDK shows our stderr line and the exit code is non-zero.
 */
import type { Io, Outcome, ParsedArgs } from "../cli.ts";
import { UsageError } from "../cli.ts";
import { toServeOptions } from "../config/serve-options.ts";
import { fetchCredentialProcess } from "../serve/aws-credential-process.ts";
import { localBaseUrl } from "../serve/env.ts";
import { requireConfig } from "./load.ts";

export async function credentialProcessCommand(args: ParsedArgs, io: Io): Promise<Outcome> {
  if (!args.target) throw new UsageError("credential-process needs --target <name>");
  if ((args.url === undefined) !== (args.tokenFile === undefined)) throw new UsageError("--url and --token-file go together");
  let baseUrl = args.url;
  let authTokenFile = args.tokenFile;
  if (baseUrl === undefined || authTokenFile === undefined) {
    const options = toServeOptions(await requireConfig(args.config, io));
    if (!options.aws.container)
      throw new UsageError("the configuration does not enable serve.aws.container, which credential-process fetches from");
    baseUrl = localBaseUrl(options);
    authTokenFile = options.aws.container.authTokenFile;
  }
  io.stdout(await fetchCredentialProcess({ baseUrl, target: args.target, authTokenFile }));
  return "OK";
}
