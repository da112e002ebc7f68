/**
 * The broker refuses to serve credentials on a non-loopback address unless the operator says so
 * explicitly (`serve.allowNonLoopback: true`), and even then never the secret-less IMDS endpoint;
 * the refusal is a clear error with exit code 2 before anything binds. And the integration run's
 * log scan sees what a broker process writes (test/support/log-scan.ts): its lines land in the
 * scan's directory, except the protocol output of `credential-process`, and no secret is in them.
 * No Keycloak realm is needed: nothing here gets as far as contacting the issuer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { listFiles, readKnownSecrets, scanFiles, TEST_LOG_DIR_ENV, TEST_SECRETS_DIR_ENV } from "../support/log-scan.ts";
import { freePort } from "../../deploy/local/net.ts";
import { spawnBroker, waitFor } from "../support/faults/processes.ts";

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "kcb-security-bind-"));
  writeFileSync(join(dir, "secret"), "not-a-real-secret-but-long-enough\n", { mode: 0o600 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A complete config whose issuer does not answer (nothing here needs it). */
function config(serve: Record<string, unknown>): string {
  const file = join(dir, `broker-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    stringify({
      issuer: "https://127.0.0.1:9/realms/nowhere",
      clientId: "orders",
      authentication: { clientSecret: { file: join(dir, "secret") } },
      aws: {
        region: "us-east-1",
        stsEndpoint: "http://127.0.0.1:9",
        roles: [{ name: "main", arn: "arn:aws:iam::111122223333:role/orders" }],
      },
      serve: { stateDir: join(dir, "state"), ...serve },
    }),
  );
  return file;
}

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect({ host: "127.0.0.1", port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });

describe("binding a non-loopback address", () => {
  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ["0.0.0.0 in the file", { host: "0.0.0.0" }, {}],
    ["an IPv6 wildcard", { host: "::" }, {}],
    ["a LAN address", { host: "192.168.10.20" }, {}],
    ["0.0.0.0 from CLOUD_BROKER_HOST", {}, { CLOUD_BROKER_HOST: "0.0.0.0" }],
    ["allowNonLoopback false said explicitly", { host: "0.0.0.0", allowNonLoopback: false }, {}],
  ])("refused (%s): exit code 2, a clear error, nothing bound", async (_name, serve, env) => {
    const port = await freePort();
    const file = config({ port, ...serve });
    for (const command of ["serve", "check-config"]) {
      const child = spawnBroker([command, "--config", file], env);
      const { code } = await child.exited;
      expect(code, child.stderr()).toBe(2);
      expect(child.stderr()).toMatch(/is not a loopback address/);
      expect(child.stderr()).toMatch(/allowNonLoopback/);
      expect(child.stderr()).toMatch(env.CLOUD_BROKER_HOST ? /CLOUD_BROKER_HOST|serve\.host/ : /serve\.host/);
    }
    expect(await listening(port)).toBe(false);
  });

  it("IMDS stays loopback-only even when non-loopback is allowed", async () => {
    const child = spawnBroker([
      "serve",
      "--config",
      config({ host: "0.0.0.0", port: await freePort(), allowNonLoopback: true, azure: { imds: true } }),
    ]);
    expect((await child.exited).code, child.stderr()).toBe(2);
    expect(child.stderr()).toMatch(/imds/i);
  });

  it("allowed when the operator says so explicitly (serve.allowNonLoopback: true)", async () => {
    const port = await freePort();
    const child = spawnBroker(["serve", "--config", config({ host: "0.0.0.0", port, allowNonLoopback: true })]);
    try {
      await waitFor(
        "the listener",
        async () => (child.child.exitCode !== null ? false : (await listening(port)) || undefined),
        60_000,
        200,
      );
      expect(child.child.exitCode, child.stderr()).toBeNull();
      const listeningLine = child
        .stderr()
        .split("\n")
        .find((l) => l.includes('"cloud-broker listening"'));
      expect(listeningLine).toContain(`"address":"0.0.0.0:${port}"`);
    } finally {
      child.kill("SIGTERM");
      await child.exited;
    }
  });
});

describe("the log scan sees the broker's output", () => {
  it("a broker process's lines land in the scan's directory (not the protocol output of `env`), and hold no secret so far", async () => {
    const logDir = process.env[TEST_LOG_DIR_ENV];
    expect(logDir, "the global setup sets KCB_TEST_LOG_DIR").toBeTruthy();
    const port = await freePort();
    const child = spawnBroker(["serve", "--config", config({ port })]);
    await waitFor(
      "the broker's log file",
      () => listFiles(logDir!).find((f) => f.includes(`/${child.pid}-main.ts-serve.stderr.log`)) ?? undefined,
      60_000,
      200,
    );
    await waitFor(
      "its listening line",
      () =>
        readFileSync(join(logDir!, `${child.pid}-main.ts-serve.stderr.log`), "utf8").includes("cloud-broker listening") ? true : undefined,
      60_000,
      200,
    );
    child.kill("SIGTERM");
    await child.exited;

    // `env` prints the workload's environment on stdout (with `--format dotenv`, secrets too): an
    // answer, not a log, so it is not copied; `check-config`'s report is.
    const env = spawnBroker(["env", "--config", config({ port }), "--format", "dotenv"]);
    const report = spawnBroker(["check-config", "--config", config({ port })]);
    expect((await env.exited).code).toBe(0);
    expect((await report.exited).code).toBe(0);
    expect(env.stdout()).toContain("AWS_CONTAINER_CREDENTIALS_FULL_URI=");
    expect(listFiles(logDir!).filter((f) => f.includes(`/${env.pid}-`) && f.endsWith(".stdout.log"))).toEqual([]);
    expect(readFileSync(join(logDir!, `${report.pid}-main.ts-check-config.stdout.log`), "utf8")).toContain("configuration OK");

    // Everything logged so far in this run (earlier test files included) is clean.
    const scan = scanFiles(listFiles(logDir!), readKnownSecrets(process.env[TEST_SECRETS_DIR_ENV]!));
    expect(scan.files).toBeGreaterThan(0);
    expect(scan.findings).toEqual([]);
  });
});
