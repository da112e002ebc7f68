/**
 * Runs unmodified SDKs in child processes for the broker-serve integration tests. Each child gets
 * the environment `cloud-broker env --format env` prints for a mode, evaluated by `sh` exactly as a
 * workload's entrypoint would, and nothing cloud-related from the test process.
 */
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "vitest";
import type { CredentialSource } from "../../broker/credentials.ts";
import { listen, type Listener } from "../../broker/serve/listen.ts";
import type { ServeOptions } from "../../broker/serve/options.ts";
import { startServing, type Serving } from "../../broker/serve/start.ts";

export const ROOT = resolve(import.meta.dirname, "../..");
export const PYTHON = join(ROOT, ".venv/bin/python");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export const node = (script: string): string[] => [process.execPath, "--input-type=module", "-e", script];
export const python = (script: string): string[] => [PYTHON, "-c", script];

/** A runner whose children use `dir` as HOME and for their env files. */
export function sdkRunner(dir: string, baseEnv: () => Record<string, string> = () => ({})) {
  let n = 0;
  return function run(exports: string, program: string[], extraEnv: Record<string, string> = {}): Promise<Run> {
    const envFile = join(dir, `env-${(n += 1)}.sh`);
    writeFileSync(envFile, exports);
    const inherited = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !/^(AWS_|AZURE_|IDENTITY_|MSI_|IMDS_)/.test(k)),
    ) as Record<string, string>;
    const env = {
      ...inherited,
      HOME: dir,
      AWS_CONFIG_FILE: join(dir, "no-such-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-such-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      PYTHONDONTWRITEBYTECODE: "1",
      ...baseEnv(),
      ...extraEnv,
    };
    return new Promise((done) => {
      execFile(
        "sh",
        ["-c", `. "$1" && shift && exec "$@"`, "sh", envFile, ...program],
        { cwd: ROOT, env, timeout: 90_000 },
        (error, stdout, stderr) => {
          done({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
        },
      );
    });
  };
}

/** The last stdout line of a successful run, as JSON. */
export function lastJson(out: Run): Record<string, unknown> {
  expect(out.code, out.stderr.slice(-3000)).toBe(0);
  return JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

/**
 * The `credential_process` command for tests: a three-line script around the client function (the
 * real `cloud-broker credential-process` subcommand is wired by the entry module). Returns its argv.
 */
export function credentialProcessCommand(dir: string, authTokenFile: string): string[] {
  const script = join(dir, "credential-process.mts");
  writeFileSync(
    script,
    `import { fetchCredentialProcess } from ${JSON.stringify(pathToFileURL(join(ROOT, "broker/serve/aws-credential-process.ts")).href)};\n` +
      `const target = process.argv[process.argv.indexOf("--target") + 1];\n` +
      `process.stdout.write(await fetchCredentialProcess({ baseUrl: process.env.BROKER_URL, target, authTokenFile: ${JSON.stringify(authTokenFile)} }));\n`,
  );
  return [process.execPath, "--import", "tsx", script];
}

export interface SeenRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string>;
}

export interface RecordedBroker {
  serving: Serving;
  listener: Listener;
  /** Every request the broker received, in order (tests may clear it). */
  seen: SeenRequest[];
  url: string;
  close(): Promise<void>;
}

/** startServing + listen on a free loopback port, recording requests; sets `options.port`. */
export async function startRecordedBroker(source: CredentialSource, options: ServeOptions): Promise<RecordedBroker> {
  const serving = await startServing({ source, options });
  const seen: SeenRequest[] = [];
  const listener = await listen(
    {
      fetch(request) {
        const url = new URL(request.url);
        seen.push({ method: request.method, path: url.pathname, query: url.search, headers: Object.fromEntries(request.headers) });
        return serving.app.fetch(request);
      },
    },
    { host: "127.0.0.1", port: 0 },
  );
  options.port = listener.port;
  return {
    serving,
    listener,
    seen,
    url: `http://127.0.0.1:${listener.port}`,
    async close() {
      await listener.close();
      await serving.stop();
    },
  };
}
