/**
 * Reading the config for a command: the file from `--config` or `CLOUD_BROKER_CONFIG` (none: the
 * environment alone), validated by the pure `parseBrokerConfig`. Invalid → a `CONFIG_INVALID` error
 * listing every problem, one per line.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { formatConfigError, parseBrokerConfig, type Config, type ConfigError } from "../config.ts";
import { BrokerError } from "../errors.ts";
import type { Io } from "../cli.ts";

export type LoadResult =
  { ok: true; config: Config; file: string | undefined } | { ok: false; errors: ConfigError[]; file: string | undefined };

export async function readConfig(flag: string | undefined, io: Io): Promise<LoadResult> {
  const given = flag ?? io.env.CLOUD_BROKER_CONFIG;
  const file = given === undefined || given === "" ? undefined : resolve(io.cwd, given);
  let text = "";
  if (file !== undefined) {
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code ?? "unreadable";
      return { ok: false, file, errors: [{ path: "", message: `cannot read the config file (${reason})`, file, line: 1, column: 1 }] };
    }
  }
  const result = parseBrokerConfig(text, io.env, file === undefined ? {} : { file });
  return { ...result, file };
}

/** The config, or a CONFIG_INVALID error whose message lists every problem. */
export async function requireConfig(flag: string | undefined, io: Io): Promise<Config> {
  const result = await readConfig(flag, io);
  if (result.ok) return result.config;
  throw new BrokerError("CONFIG_INVALID", `invalid configuration:\n${result.errors.map((e) => `  ${formatConfigError(e)}`).join("\n")}`);
}
