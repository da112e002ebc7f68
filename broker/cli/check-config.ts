/** `cloud-broker check-config`: every error of the file + environment, or a summary of what would run. */
import type { Io, Outcome, ParsedArgs } from "../cli.ts";
import { formatConfigError } from "../config.ts";
import { toServeOptions } from "../config/serve-options.ts";
import { enabledModes } from "../serve/env.ts";
import { authMethodName } from "../token-source/client-auth.ts";
import { readConfig } from "./load.ts";

export async function checkConfigCommand(args: ParsedArgs, io: Io): Promise<Outcome> {
  const result = await readConfig(args.config, io);
  if (!result.ok) {
    io.stderr(`${result.file ?? "configuration"}: ${result.errors.length} error${result.errors.length === 1 ? "" : "s"}\n`);
    for (const error of result.errors) io.stderr(`${formatConfigError(error)}\n`);
    return "CONFIG_INVALID";
  }
  const { config } = result;
  const serve = toServeOptions(config);
  const modes = enabledModes(serve);
  const lines = [
    `configuration OK${result.file ? ` (${result.file})` : " (environment only)"}`,
    `  issuer:         ${config.issuer}`,
    `  client:         ${config.clientId} via ${authMethodName(config.authentication)}`,
    ...(config.aws?.roles ?? []).map(
      (r) => `  aws target:     ${r.name} → ${r.arn} (${r.durationSeconds} s${r.sessionPolicy ? ", session policy" : ""})`,
    ),
    ...(config.azure?.identities ?? []).map(
      (i) => `  azure target:   ${i.name} → tenant ${i.tenantId}, client ${i.clientId}: ${i.scopes.join(", ")}`,
    ),
    `  listen:         ${serve.host}:${serve.port}${serve.ops ? `, ops ${serve.ops.host}:${serve.ops.port}` : ""}`,
    `  delivery modes: ${modes.join(", ") || "none"}`,
    ...(config.agents
      ? [
          `  agents:         POST /v1/token on https://${config.agents.listen.host}:${config.agents.listen.port}${config.agents.listen.tls.clientCaFile ? " (client certificates required)" : ""}, policy from ${config.agents.realmConfigFile}`,
        ]
      : []),
  ];
  io.stdout(`${lines.join("\n")}\n`);
  return "OK";
}
