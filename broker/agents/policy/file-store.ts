/**
 * The policy in force, read from the realm-config file and recompiled when the file changes
 * (`fs.watch` on its directory, debounced, so editors' rename-on-save and Kubernetes ConfigMap
 * symlink swaps are seen). A file that does not load, validate or compile is logged with every
 * problem and the previous policy stays in force.
 *
 * @example
 * const store = openFilePolicyStore({ file: "realm-config/trust-domain.yaml", issuer, env: process.env, log });
 * // … store.current() …
 * store.close();
 */
import { createHash } from "node:crypto";
import { watch, readFileSync, type FSWatcher } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { formatIssue, TrustDomainError } from "../../../realm-config/model/errors.ts";
import { parseTrustDomain } from "../../../realm-config/model/load.ts";
import type { Logger } from "../../log.ts";
import { AgentsError } from "../../errors.ts";
import type { PolicyStore } from "../ports.ts";
import { compilePolicy, type PolicySource } from "./compile.ts";
import type { CompiledPolicy } from "./types.ts";

export interface FilePolicyStoreOptions {
  file: string;
  /** The issuer the verifier is pinned to; a file naming another issuer is refused. */
  issuer: string;
  /** For `${VAR}` in the file's issuer. */
  env: Readonly<Record<string, string | undefined>>;
  log: Logger;
  /** Quiet time after the last change before reloading, default 250 ms. */
  debounceMs?: number;
  /** Default true. */
  watch?: boolean;
}

export interface FilePolicyStore extends PolicyStore {
  /** Re-reads the file now; true when a new policy is in force. */
  reload(): boolean;
  close(): void;
}

type LoadResult = { ok: true; policy: CompiledPolicy } | { ok: false; problems: string[] };

function load(file: string, issuer: string, env: FilePolicyStoreOptions["env"]): LoadResult & { sha256?: string } {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    return { ok: false, problems: [`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`] };
  }
  const sha256 = createHash("sha256").update(text).digest("hex");
  let source: PolicySource;
  try {
    source = parseTrustDomain(text, file, { env, requireAdminUrls: false }).config;
  } catch (error) {
    if (error instanceof TrustDomainError)
      return { ok: false, sha256, problems: error.issues.length ? error.issues.map(formatIssue) : [error.message] };
    return { ok: false, sha256, problems: [String(error)] };
  }
  if (source.issuer !== issuer)
    return { ok: false, sha256, problems: [`${file}: issuer ${source.issuer} is not the broker's trusted issuer ${issuer}`] };
  const compiled = compilePolicy(source, sha256.slice(0, 16));
  if (!compiled.ok) return { ok: false, sha256, problems: compiled.issues.map((i) => `${file}: ${i.path}: ${i.message}`) };
  return { ok: true, sha256, policy: compiled.policy };
}

/** Loads the file once (throws `AgentsError` `POLICY_UNAVAILABLE` listing every problem if it is bad), then watches it. */
export function openFilePolicyStore(options: FilePolicyStoreOptions): FilePolicyStore {
  const file = resolve(options.file);
  const log = options.log.child({ component: "agents-policy", file });
  const first = load(file, options.issuer, options.env);
  if (!first.ok) throw new AgentsError("POLICY_UNAVAILABLE", `agents policy not loaded:\n${first.problems.join("\n")}`);
  let policy = first.policy;
  let sha256 = first.sha256;
  log.info("agents policy loaded", { revision: policy.revision, agents: policy.agents.length });

  const reload = (): boolean => {
    const next = load(file, options.issuer, options.env);
    if (next.sha256 !== undefined && next.sha256 === sha256) return false;
    if (!next.ok) {
      log.error("agents policy not reloaded: keeping the previous one", { revision: policy.revision, problems: next.problems });
      sha256 = next.sha256;
      return false;
    }
    policy = next.policy;
    sha256 = next.sha256;
    log.info("agents policy reloaded", { revision: policy.revision, agents: policy.agents.length });
    return true;
  };

  let watcher: FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  if (options.watch ?? true) {
    const name = basename(file);
    watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
      if (changed !== null && changed !== name && !changed.startsWith("..")) return;
      clearTimeout(timer);
      timer = setTimeout(reload, options.debounceMs ?? 250);
      timer.unref();
    });
    watcher.on("error", (error) => log.error("agents policy watch failed", { error }));
  }

  return {
    current: () => policy,
    reload,
    close() {
      clearTimeout(timer);
      watcher?.close();
    },
  };
}
