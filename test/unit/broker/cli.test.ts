import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { EXIT, EXIT_CODES, helpText, outcomeOf, parseCommandLine, runCli, UsageError, type Io } from "../../../broker/cli.ts";
import { ENV_VARS } from "../../../broker/config.ts";
import { toServeOptions } from "../../../broker/config/serve-options.ts";
import { BrokerError } from "../../../broker/errors.ts";
import { parseBrokerConfig } from "../../../broker/config.ts";

const dir = mkdtempSync(join(tmpdir(), "kcb-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = `issuer: https://kc.example.com/realms/prod
clientId: payments-api
authentication: { kubernetes: { tokenFile: /var/run/secrets/tokens/kc } }
aws:
  region: eu-west-1
  roles: [{ name: s3-reader, arn: "arn:aws:iam::123456789012:role/s3-reader" }]
azure:
  identities:
    - { name: blob, tenantId: 11111111-2222-3333-4444-555555555555, clientId: 66666666-7777-8888-9999-000000000000, scopes: [https://storage.azure.com/.default] }
serve:
  stateDir: state
  aws: { credentialProcess: true, webIdentity: { roleSessionName: payments } }
  azure: { imds: true, federatedTokenFile: true }
`;
const configFile = join(dir, "broker.yaml");
writeFileSync(configFile, CONFIG);

function io(env: Record<string, string> = {}) {
  const out = { stdout: "", stderr: "" };
  const value: Io = { stdout: (t) => (out.stdout += t), stderr: (t) => (out.stderr += t), env, cwd: dir };
  return { io: value, out };
}

describe("parseCommandLine", () => {
  it.each<[string[], Record<string, unknown>]>([
    [[], { command: "serve" }],
    [["serve", "--config", "a.yaml"], { command: "serve", config: "a.yaml" }],
    [
      ["credential-process", "--target", "s3", "--url", "http://127.0.0.1:8999", "--token-file", "/t"],
      { command: "credential-process", target: "s3", url: "http://127.0.0.1:8999", tokenFile: "/t" },
    ],
    [["env", "--mode", "aws-container", "--format", "json"], { command: "env", mode: "aws-container", format: "json" }],
    [["check-config", "--config=x.yaml"], { command: "check-config", config: "x.yaml" }],
    [["--help"], { command: "help" }],
    [["env", "-h"], { command: "help" }],
  ])("%j → %j", (argv, expected) => {
    expect(parseCommandLine(argv)).toEqual(expected);
  });

  it.each([[["bogus"]], [["serve", "extra"]], [["--nope"]], [["serve", "--target", "x"]], [["check-config", "--mode", "aws-container"]]])(
    "refuses %j",
    (argv) => {
      expect(() => parseCommandLine(argv)).toThrow(UsageError);
    },
  );
});

describe("EXIT_CODES: the one outcome → exit-code table", () => {
  it.each([
    [new UsageError("x"), "USAGE", EXIT.INVALID],
    [new BrokerError("CONFIG_INVALID", "x"), "CONFIG_INVALID", EXIT.INVALID],
    [new BrokerError("AWS_REJECTED", "x"), "AWS_REJECTED", EXIT.FAILURE],
    [new Error("bug"), "UNEXPECTED", EXIT.FAILURE],
  ])("%s → %s → %i", (error, outcome, code) => {
    expect(outcomeOf(error)).toBe(outcome);
    expect(EXIT_CODES[outcomeOf(error)]).toBe(code);
  });

  it("maps OK to 0 and nothing else", () => {
    expect(Object.entries(EXIT_CODES).filter(([, code]) => code === EXIT.OK)).toEqual([["OK", EXIT.OK]]);
  });
});

describe("runCli", () => {
  it("prints help listing every command, every CLOUD_BROKER_* variable and the exit codes", async () => {
    const { io: i, out } = io();
    expect(await runCli(["--help"], i)).toBe(0);
    expect(out.stdout).toBe(helpText());
    for (const v of ENV_VARS) expect(out.stdout).toContain(v.name);
    for (const c of ["credential-process", "check-config", "env"]) expect(out.stdout).toContain(c);
    expect(out.stdout).toContain("Exit codes:\n  0  success\n  1  runtime failure");
    expect(out.stdout).toContain("\n  2  invalid configuration or command line\n");
  });

  it("exits 2 with a hint on a bad command line", async () => {
    const { io: i, out } = io();
    expect(await runCli(["frobnicate"], i)).toBe(2);
    expect(out.stderr).toContain("unknown command: frobnicate");
    expect(out.stderr).toContain("--help");
  });

  it("check-config summarizes a valid config (found through CLOUD_BROKER_CONFIG, relative to cwd)", async () => {
    const { io: i, out } = io({ CLOUD_BROKER_CONFIG: "broker.yaml" });
    expect(await runCli(["check-config"], i)).toBe(0);
    expect(out.stdout).toContain(`configuration OK (${configFile})`);
    expect(out.stdout).toContain("payments-api via kubernetes (federated-jwt)");
    expect(out.stdout).toContain(
      "delivery modes: aws-container, aws-web-identity, aws-credential-process, azure-app-service, azure-imds, azure-workload-identity",
    );
  });

  it("check-config lists every error and exits 2", async () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, CONFIG.replace("https://kc", "http://kc").replace("eu-west-1", "Europe"));
    const { io: i, out } = io({ CLOUD_BROKER_PORT: "eighty" });
    expect(await runCli(["check-config", "--config", bad], i)).toBe(2);
    expect(out.stderr.split("\n").filter(Boolean)).toEqual([
      `${bad}: 3 errors`,
      `${bad}:1:1 issuer: must be an https:// URL`,
      `${bad}:5:3 aws.region: an AWS region, e.g. eu-west-1`,
      '$CLOUD_BROKER_PORT must be an integer, got "eighty"',
    ]);
  });

  it("check-config reports an unreadable file", async () => {
    const { io: i, out } = io();
    expect(await runCli(["check-config", "--config", "missing.yaml"], i)).toBe(2);
    expect(out.stderr).toContain("cannot read the config file (ENOENT)");
  });

  it("env prints the first enabled mode, or the one asked for, in the format asked for", async () => {
    const a = io();
    expect(await runCli(["env", "--config", configFile], a.io)).toBe(0);
    expect(a.out.stdout).toContain("export AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:8999/v1/aws/credentials/s3-reader\n");
    expect(a.out.stdout).toContain(
      `export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=${join(dir, "state", "aws-container-authorization-token")}\n`,
    );
    const b = io();
    expect(await runCli(["env", "--config", configFile, "--mode", "aws-web-identity", "--format", "json"], b.io)).toBe(0);
    expect(JSON.parse(b.out.stdout)).toMatchObject({
      AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/s3-reader",
      AWS_ROLE_SESSION_NAME: "payments",
    });
  });

  it("env refuses an unknown mode (2) and an unknown target (1)", async () => {
    const a = io();
    expect(await runCli(["env", "--config", configFile, "--mode", "gcp"], a.io)).toBe(2);
    const b = io();
    expect(await runCli(["env", "--config", configFile, "--target", "nope"], b.io)).toBe(1);
    expect(b.out.stderr).toContain("UNKNOWN_TARGET");
  });

  it("credential-process needs a target, and --url with --token-file", async () => {
    const a = io();
    expect(await runCli(["credential-process"], a.io)).toBe(2);
    const b = io();
    expect(await runCli(["credential-process", "--target", "s3", "--url", "http://127.0.0.1:1"], b.io)).toBe(2);
  });

  it("prints the version", async () => {
    const { io: i, out } = io();
    expect(await runCli(["--version"], i)).toBe(0);
    expect(out.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});

describe("toServeOptions", () => {
  it("turns on the container and App Service endpoints by default, names files under stateDir, and puts everything credential_process needs on its command line", () => {
    const result = parseBrokerConfig(CONFIG, {}, { file: configFile });
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const state = join(dir, "state");
    expect(toServeOptions(result.config)).toEqual({
      host: "127.0.0.1",
      allowNonLoopback: false,
      port: 8999,
      fileMode: 0o600,
      retryAfterSeconds: 2,
      aws: {
        container: { authTokenFile: join(state, "aws-container-authorization-token") },
        credentialProcess: {
          configFile: join(state, "aws-config"),
          command: [
            "cloud-broker",
            "credential-process",
            "--url",
            "http://127.0.0.1:8999",
            "--token-file",
            join(state, "aws-container-authorization-token"),
          ],
        },
        webIdentity: { tokenFile: join(state, "aws-web-identity-token"), rewriteBeforeExpirySeconds: 300, roleSessionName: "payments" },
        region: "eu-west-1",
      },
      azure: {
        appService: { secretFile: join(state, "azure-identity-header") },
        imds: { enabled: true },
        federatedTokenFile: { tokenFile: join(state, "azure-federated-token"), rewriteBeforeExpirySeconds: 900 },
        authorityHost: "https://login.microsoftonline.com",
      },
    });
  });

  it("leaves a mode off when told to", () => {
    const result = parseBrokerConfig(
      `${CONFIG.replace(/serve:[\s\S]*$/, "")}serve: { aws: { container: false }, azure: { appService: false } }\n`,
    );
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    const options = toServeOptions(result.config);
    expect(options.aws.container).toBeUndefined();
    expect(options.azure.appService).toBeUndefined();
  });

  it("keeps IMDS off unless asked for, and lets CLOUD_BROKER_SERVE_* turn on a mode the file keeps off (with its settings)", () => {
    const base = `${CONFIG.replace(/serve:[\s\S]*$/, "")}serve:\n  aws: { container: false, webIdentity: { enabled: false, roleSessionName: app } }\n  azure: { appService: false }\n`;
    const off = parseBrokerConfig(base);
    if (!off.ok) throw new Error(JSON.stringify(off.errors));
    const none = toServeOptions(off.config);
    expect([none.aws.container, none.aws.webIdentity, none.azure.appService, none.azure.imds, none.azure.federatedTokenFile]).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);

    const on = parseBrokerConfig(base, { CLOUD_BROKER_SERVE_AWS_WEB_IDENTITY: "true", CLOUD_BROKER_SERVE_AZURE_IMDS: "true" });
    if (!on.ok) throw new Error(JSON.stringify(on.errors));
    const options = toServeOptions(on.config);
    expect(options.aws.webIdentity?.roleSessionName).toBe("app");
    expect(options.azure.imds).toEqual({ enabled: true });
    expect([options.aws.container, options.azure.appService]).toEqual([undefined, undefined]);

    const bad = parseBrokerConfig(base, { CLOUD_BROKER_SERVE_AZURE_IMDS: "yes" });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatchObject({ env: "CLOUD_BROKER_SERVE_AZURE_IMDS" });
  });
});
