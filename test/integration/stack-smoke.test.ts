/**
 * `npm run stack` end to end, as a developer uses it: `up` starts the local trust domain in the
 * background, `env` prints the workload environment, a workload started with only that environment
 * (the unmodified AWS SDK and DefaultAzureCredential of deploy/local/demo/workload.ts) gets AWS
 * credentials and an Azure token through its sidecar, and `down` leaves nothing running: every pid
 * the stack recorded is gone, and no process mentions the stack's directory.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../deploy/local/net.ts";
import { repoRoot } from "../../deploy/local/paths.ts";
import { isAlive, stopPid } from "../../deploy/local/processes.ts";
import { readState } from "../../deploy/local/stack/state.ts";

const TSX = join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");
const dir = mkdtempSync(join(tmpdir(), "kcb-stack-smoke-"));
let stackEnv: NodeJS.ProcessEnv;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const child = spawn(process.execPath, [TSX, join(repoRoot, script), ...args], { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

const stack = (command: string) => run("deploy/local/stack/main.ts", [command], stackEnv);

function parseDotenv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n").filter((l) => l.trim() && !l.startsWith("#"))) {
    const at = line.indexOf("=");
    env[line.slice(0, at)] = line.slice(at + 1);
  }
  return env;
}

/** Pids of live processes whose command line or environment names `path` (Linux /proc). */
function processesMentioning(path: string): number[] {
  if (!existsSync("/proc/self/cmdline")) return [];
  const found: number[] = [];
  for (const entry of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(path)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found.filter((pid) => pid !== process.pid);
}

afterAll(async () => {
  // Whatever happened above, stop what this test started.
  const state = readState(dir);
  if (state)
    for (const pid of [state.supervisorPid, ...state.components.flatMap((c) => (c.pid ? [c.pid] : []))])
      await stopPid(pid, { group: true });
  rmSync(dir, { recursive: true, force: true });
});

describe("npm run stack", () => {
  it("up → env → a workload with only that environment → down, nothing left running", async () => {
    stackEnv = { ...process.env, KCB_STACK_DIR: dir, KCB_STACK_FRONT_PORT: String(await freePort()) };

    const up = await stack("up");
    expect(
      up.code,
      `${up.stdout}\n${up.stderr}\n${existsSync(join(dir, "stack.log")) ? readFileSync(join(dir, "stack.log"), "utf8").slice(-4000) : ""}`,
    ).toBe(0);
    const state = readState(dir)!;
    expect(state.phase).toBe("ready");
    const pids = [state.supervisorPid, ...state.components.flatMap((c) => (c.pid ? [c.pid] : []))];
    expect(state.components.filter((c) => c.kind === "keycloak" && c.pid)).toHaveLength(2);
    expect(state.components.filter((c) => c.kind === "broker" && c.pid).length).toBeGreaterThan(0);
    expect(pids.every((pid) => isAlive(pid))).toBe(true);

    const status = await stack("status");
    expect(status.code, status.stdout).toBe(0);

    const printed = await stack("env");
    expect(printed.code, printed.stderr).toBe(0);
    const workloadEnv = parseDotenv(printed.stdout);
    expect(Object.keys(workloadEnv)).toEqual(
      expect.arrayContaining([
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "IDENTITY_ENDPOINT",
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME",
        "AZURE_OPENAI_ENDPOINT",
        "OPENAI_API_VERSION",
      ]),
    );

    // Only the printed environment (plus PATH to find nothing in particular), as `env -i $(cat …)` would.
    const workload = await run("deploy/local/demo/workload.ts", [], { ...workloadEnv, PATH: process.env.PATH });
    expect(workload.code, workload.stderr).toBe(0);
    const result = JSON.parse(workload.stdout.trim().split("\n").pop()!) as Record<
      string,
      { ok: boolean; detail: Record<string, unknown> }
    >;
    // Both models answered the unmodified SDKs, with credentials only the sidecar could have given.
    expect(result.bedrock?.ok, JSON.stringify(result.bedrock)).toBe(true);
    expect(result.bedrock?.detail.modelId).toBe(workloadEnv.BEDROCK_MODEL_ID);
    expect(result.azureOpenAi?.ok, JSON.stringify(result.azureOpenAi)).toBe(true);
    expect(result.azureOpenAi?.detail.deployment).toBe(workloadEnv.AZURE_OPENAI_DEPLOYMENT);

    const down = await stack("down");
    expect(down.code, down.stdout).toBe(0);
    expect(readState(dir)?.phase).toBe("stopped");
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    expect((await stack("status")).code).toBe(3);
  }, 900_000); // two Keycloak servers start and stop inside this one test: it gets the time a cold start needs
});
