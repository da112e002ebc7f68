import { describe, expect, it } from "vitest";
import type { BrokerError } from "../../../../broker/errors.ts";
import { envFor, localBaseUrl, renderEnv, type EnvMode } from "../../../../broker/serve/env.ts";
import { FakeSource, STORAGE_CLIENT, TENANT, VAULT_CLIENT } from "../../../support/fakes/credential-source.ts";
import { allOn } from "../../../support/fixtures/serve-options.ts";

const source = new FakeSource();
const targets = { aws: source.awsTargets, azure: source.azureTargets };
const D = "/run/cloud-broker";

describe("envFor", () => {
  it.each<[EnvMode, string | undefined, Record<string, string>]>([
    [
      "aws-container",
      undefined,
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:8999/v1/aws/credentials/s3-reader",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${D}/aws-container-token`,
        AWS_REGION: "eu-west-1",
        AWS_DEFAULT_REGION: "eu-west-1",
      },
    ],
    [
      "aws-container",
      "sqs-writer",
      {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: "http://127.0.0.1:8999/v1/aws/credentials/sqs-writer",
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: `${D}/aws-container-token`,
        AWS_REGION: "eu-west-1",
        AWS_DEFAULT_REGION: "eu-west-1",
      },
    ],
    [
      "aws-web-identity",
      "sqs-writer",
      {
        AWS_WEB_IDENTITY_TOKEN_FILE: `${D}/aws-web-identity-token`,
        AWS_ROLE_ARN: "arn:aws:iam::123456789012:role/sqs-writer",
        AWS_ROLE_SESSION_NAME: "orders-api",
        AWS_REGION: "eu-west-1",
        AWS_DEFAULT_REGION: "eu-west-1",
      },
    ],
    ["aws-credential-process", undefined, { AWS_CONFIG_FILE: `${D}/aws-config`, AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" }],
    [
      "aws-credential-process",
      "sqs-writer",
      { AWS_CONFIG_FILE: `${D}/aws-config`, AWS_PROFILE: "sqs-writer", AWS_REGION: "eu-west-1", AWS_DEFAULT_REGION: "eu-west-1" },
    ],
    [
      "azure-app-service",
      undefined,
      {
        IDENTITY_ENDPOINT: "http://127.0.0.1:8999/v1/azure/msi/token",
        IDENTITY_HEADER: `<file ${D}/azure-identity-header>`,
        AZURE_CLIENT_ID: STORAGE_CLIENT,
      },
    ],
    ["azure-imds", "vault", { AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://127.0.0.1:8999", AZURE_CLIENT_ID: VAULT_CLIENT }],
    [
      "azure-workload-identity",
      undefined,
      {
        AZURE_FEDERATED_TOKEN_FILE: `${D}/azure-federated-token`,
        AZURE_CLIENT_ID: STORAGE_CLIENT,
        AZURE_TENANT_ID: TENANT,
        AZURE_AUTHORITY_HOST: "https://login.microsoftonline.com/",
      },
    ],
  ])("%s (target %s)", (mode, target, expected) => {
    const vars = envFor(mode, allOn(D), targets, target);
    expect(Object.fromEntries(vars.map((v) => [v.name, "value" in v ? v.value : `<file ${v.file}>`]))).toEqual(expected);
  });

  it("uses the configured default Azure identity", () => {
    const options = allOn(D);
    options.azure.defaultTarget = "vault";
    expect(envFor("azure-imds", options, targets)).toContainEqual({ name: "AZURE_CLIENT_ID", value: VAULT_CLIENT });
  });

  it.each([
    ["a disabled mode", "azure-imds", undefined, "CONFIG_INVALID"],
    ["an unknown target", "aws-container", "nope", "UNKNOWN_TARGET"],
  ] as const)("refuses %s", (_case, mode, target, code) => {
    const options = allOn(D);
    delete options.azure.imds;
    try {
      envFor(mode, options, targets, target);
      expect.unreachable();
    } catch (error) {
      expect((error as BrokerError).code).toBe(code);
    }
  });

  it.each([
    ["127.0.0.1", "http://127.0.0.1:8999"],
    ["localhost", "http://127.0.0.1:8999"],
    ["::1", "http://[::1]:8999"],
  ])("base URL for host %s is %s", (host, url) => {
    expect(localBaseUrl({ host, port: 8999 })).toBe(url);
  });
});

describe("renderEnv", () => {
  const vars = [
    { name: "IDENTITY_ENDPOINT", value: "http://127.0.0.1:8999/v1/azure/msi/token" },
    { name: "IDENTITY_HEADER", file: "/run/cloud broker/it's here" },
    { name: "ODD", value: "a b$c`d'e" },
  ];

  it("env: shell-quoted exports; file-held secrets stay in the file until the workload's shell reads them", () => {
    expect(renderEnv(vars, "env")).toBe(
      [
        "export IDENTITY_ENDPOINT=http://127.0.0.1:8999/v1/azure/msi/token",
        `export IDENTITY_HEADER="$(cat '/run/cloud broker/it'\\''s here')"`,
        `export ODD='a b$c\`d'\\''e'`,
        "",
      ].join("\n"),
    );
  });

  it("json: the values, secrets read from their files", () => {
    const out = renderEnv(vars, "json", () => "s3cr3t");
    expect(JSON.parse(out)).toEqual({
      IDENTITY_ENDPOINT: "http://127.0.0.1:8999/v1/azure/msi/token",
      IDENTITY_HEADER: "s3cr3t",
      ODD: "a b$c`d'e",
    });
  });

  it("dotenv: single-quoted literals; refuses a value it cannot represent", () => {
    expect(renderEnv(vars.slice(0, 2), "dotenv", () => "s3cr3t")).toBe(
      "IDENTITY_ENDPOINT='http://127.0.0.1:8999/v1/azure/msi/token'\nIDENTITY_HEADER='s3cr3t'\n",
    );
    expect(() => renderEnv(vars, "dotenv", () => "s3cr3t")).toThrow(/ODD/);
  });

  it("needs a file reader for the formats that print secrets", () => {
    expect(() => renderEnv(vars, "json")).toThrow(TypeError);
  });
});
