/** `cloud-broker env`: the environment a workload needs for one delivery mode (formatter: broker/serve/env.ts). */
import { readFileSync } from "node:fs";
import type { Io, Outcome, ParsedArgs } from "../cli.ts";
import { UsageError } from "../cli.ts";
import { toServeOptions } from "../config/serve-options.ts";
import { configuredTargets } from "../credential-source.ts";
import { BrokerError } from "../errors.ts";
import { enabledModes, ENV_FORMATS, ENV_MODES, envFor, renderEnv, type EnvFormat, type EnvMode } from "../serve/env.ts";
import { requireConfig } from "./load.ts";

export async function envCommand(args: ParsedArgs, io: Io): Promise<Outcome> {
  if (args.mode !== undefined && !(ENV_MODES as readonly string[]).includes(args.mode))
    throw new UsageError(`unknown mode ${args.mode} (one of ${ENV_MODES.join(", ")})`);
  if (args.format !== undefined && !(ENV_FORMATS as readonly string[]).includes(args.format))
    throw new UsageError(`unknown format ${args.format} (one of ${ENV_FORMATS.join(", ")})`);
  const config = await requireConfig(args.config, io);
  const options = toServeOptions(config);
  const mode = (args.mode as EnvMode | undefined) ?? enabledModes(options)[0];
  if (mode === undefined) throw new BrokerError("CONFIG_INVALID", "no delivery mode is enabled");
  const vars = envFor(mode, options, configuredTargets(config), args.target);
  io.stdout(renderEnv(vars, (args.format as EnvFormat | undefined) ?? "env", (path) => readFileSync(path, "utf8")));
  return "OK";
}
