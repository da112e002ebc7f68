/**
 * Test helpers for the Python cross-checks: run `test/python/cross_check.py` in the project venv
 * (created by `deploy/local/ensure-deps.mjs` from `test/python/requirements.txt`), and start / stop
 * moto's STS server as an independent wire-format peer. Only processes started here are stopped, by pid.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../../../deploy/local/net.ts";
import { repoRoot } from "../../../deploy/local/paths.ts";
import { stopPid, trackChild } from "../../../deploy/local/processes.ts";

export const venvBin = (name: string) => join(repoRoot, ".venv", "bin", name);

export function venvReady(): boolean {
  return existsSync(venvBin("python")) && existsSync(venvBin("moto_server"));
}

/** Env for Python children: no AWS profile or instance metadata from the machine, the local CA trusted. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ["PATH", "HOME", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "LANG"])
    if (process.env[k]) env[k] = process.env[k];
  return {
    ...env,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    PYTHONDONTWRITEBYTECODE: "1",
    ...extra,
  };
}

/** Runs the cross-check script with `input` on stdin; resolves with its JSON output or rejects with its stderr. */
export async function runCrossCheck<T>(input: unknown, timeoutMs = 60_000): Promise<T> {
  const child = spawn(venvBin("python"), [join(repoRoot, "test", "python", "cross_check.py")], {
    env: childEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  const forget = trackChild(child.pid!);
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (err += c.toString("utf8")));
  child.stdin.end(JSON.stringify(input));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  forget();
  if (code !== 0) throw new Error(`cross_check.py exited with ${code}: ${err.slice(-2000)}`);
  return JSON.parse(out) as T;
}

export interface MotoServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `moto_server` on a free loopback port and waits until it answers. */
export async function startMotoServer(): Promise<MotoServer> {
  const port = await freePort();
  const child = spawn(venvBin("moto_server"), ["-H", "127.0.0.1", "-p", String(port)], {
    env: childEnv(),
    stdio: "ignore",
    detached: true,
  });
  const pid = child.pid!;
  const forget = trackChild(pid, true);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/moto-api/`)).status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopPid(pid, { group: true, graceMs: 2_000 });
      forget();
      throw new Error("moto_server did not start within 30 s");
    }
    await sleep(200);
  }
  return {
    url,
    pid,
    async stop() {
      await stopPid(pid, { group: true, graceMs: 5_000 });
      forget();
    },
  };
}
