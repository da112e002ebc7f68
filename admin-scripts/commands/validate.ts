/**
 * `realm-sync validate <config>`: offline. Schema and semantic rules; every error with file, line
 * and YAML path. Unset `${VAR}`s in cluster admin URLs are warnings unless `--require-env`.
 */
import { readConfigText, type ValidateOptions } from "../command.ts";
import { formatIssue, loadingTrustDomain, RealmSyncError, type Outcome } from "../errors.ts";
import { parseTrustDomain } from "../../realm-config/model/load.ts";

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export async function run(opts: ValidateOptions): Promise<Outcome> {
  const text = await readConfigText(opts);
  let loaded;
  try {
    loaded = loadingTrustDomain(() =>
      parseTrustDomain(text, opts.config, { env: opts.env, cwd: opts.cwd, requireAdminUrls: opts.requireEnv }),
    );
  } catch (err) {
    if (!(err instanceof RealmSyncError) || err.code !== "CONFIG_INVALID" || !opts.json) throw err;
    const errors = err.issues.filter((i) => i.severity !== "warning");
    const warnings = err.issues.filter((i) => i.severity === "warning");
    opts.stdout.write(`${JSON.stringify({ valid: false, errors, warnings }, null, 2)}\n`);
    return "CONFIG_INVALID";
  }
  const { config, warnings } = loaded;
  if (opts.json) {
    opts.stdout.write(`${JSON.stringify({ valid: true, errors: [], warnings }, null, 2)}\n`);
    return "OK";
  }
  for (const w of warnings) opts.stderr.write(`${formatIssue(w)}\n`);
  const counts = [
    plural(config.clusters.length, "cluster"),
    plural(config.signingKeys.length, "signing key"),
    plural(config.workloads.length, "workload"),
    plural(config.agents.length, "agent"),
  ];
  opts.stdout.write(
    `${opts.config}: valid (realm ${config.realm}, ${counts.join(", ")}${warnings.length ? `; ${plural(warnings.length, "warning")}` : ""})\n`,
  );
  return "OK";
}
