/**
 * The unmodified AWS and Azure SDKs (JS, and Python where `.venv` has them) accept what the serving
 * layer serves. Each SDK runs in a child process whose environment is exactly what
 * `cloud-broker env --format env` prints for the mode, evaluated by `sh`. The credentials come from
 * a fake of our own CredentialSource: this file is about the wire, not the exchange (the
 * end-to-end file with real Keycloak tokens and the strict STS emulator is broker-serve-e2e).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { envFor, renderEnv, type EnvMode } from "../../broker/serve/env.ts";
import type { ServeOptions } from "../../broker/serve/options.ts";
import { FakeSource, STORAGE_CLIENT, VAULT_CLIENT } from "../support/fakes/credential-source.ts";
import {
  credentialProcessCommand,
  lastJson,
  node,
  python,
  sdkRunner,
  startRecordedBroker,
  type RecordedBroker,
} from "../support/broker-serve.ts";

let dir: string;
let source: FakeSource;
let options: ServeOptions;
let broker: RecordedBroker;
let run: ReturnType<typeof sdkRunner>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "broker-serve-sdk-"));
  source = new FakeSource();
  source.refresh(new Date(Math.floor(Date.now() / 1000) * 1000 + 3600_000));
  options = {
    host: "127.0.0.1",
    port: 0,
    fileMode: 0o600,
    retryAfterSeconds: 1,
    aws: {
      container: { authTokenFile: join(dir, "aws-container-token") },
      credentialProcess: { configFile: join(dir, "aws-config"), command: credentialProcessCommand(dir, join(dir, "aws-container-token")) },
      region: "us-east-1",
    },
    azure: {
      appService: { secretFile: join(dir, "azure-identity-header") },
      imds: { enabled: true },
      authorityHost: "https://login.microsoftonline.com/",
    },
  };
  broker = await startRecordedBroker(source, options);
  run = sdkRunner(dir, () => ({ BROKER_URL: broker.url }));
});

afterAll(async () => {
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

function exportsFor(mode: EnvMode, target?: string): string {
  return renderEnv(envFor(mode, options, { aws: source.awsTargets, azure: source.azureTargets }, target), "env");
}

const awsJs = (provider: string) => `
import * as providers from "@aws-sdk/credential-providers";
const c = await (${provider})();
console.log(JSON.stringify({ accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: c.expiration?.toISOString(), accountId: c.accountId }));
`;

function expectedAws(target: string) {
  return {
    accessKeyId: `ASIA${target.toUpperCase().replace(/-/g, "").padEnd(16, "X").slice(0, 16)}`,
    secretAccessKey: `secret-${target}`,
    sessionToken: `session-${target}`,
    expiration: source.expiresAt.toISOString(),
  };
}

/**
 * MSAL Node turns `expires_on` into a lifetime against its clock when the response arrives and adds
 * it to the request's timestamp, so its `expiresOnTimestamp` may be one second off ours.
 */
function expectExpiry(expiresOnTimestamp: unknown): void {
  expect(Math.abs((expiresOnTimestamp as number) - source.expiresAt.getTime())).toBeLessThanOrEqual(1000);
}

describe("AWS SDK for JavaScript v3", () => {
  it("the default chain takes credentials from the container endpoint with the token file", async () => {
    broker.seen.length = 0;
    const out = lastJson(await run(exportsFor("aws-container", "sqs-writer"), node(awsJs("providers.fromNodeProviderChain()"))));
    expect(out).toMatchObject(expectedAws("sqs-writer"));
    const request = broker.seen.find((r) => r.path === "/v1/aws/credentials/sqs-writer");
    expect(request?.headers.authorization).toBe(readFileSync(join(dir, "aws-container-token"), "utf8"));
  });

  it("fromContainerMetadata (token in AWS_CONTAINER_AUTHORIZATION_TOKEN) gets them too, AccountId included", async () => {
    const token = readFileSync(join(dir, "aws-container-token"), "utf8");
    const exports = exportsFor("aws-container").replace(/^export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=.*$/m, "");
    const out = lastJson(
      await run(exports, node(awsJs("providers.fromContainerMetadata()")), { AWS_CONTAINER_AUTHORIZATION_TOKEN: token }),
    );
    expect(out).toEqual({ ...expectedAws("s3-reader"), accountId: "123456789012" });
  });

  it("fromHttp refuses to proceed with a wrong token file (401), and nothing secret reaches its error", async () => {
    const wrong = join(dir, "wrong-token");
    writeFileSync(wrong, "x".repeat(43));
    const exports = exportsFor("aws-container") + `export AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE='${wrong}'\n`;
    const out = await run(exports, node(awsJs("providers.fromHttp({ maxRetries: 0 })")));
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/401/);
    expect(out.stderr).not.toContain("secret-s3-reader");
  });

  it("credential_process from the config file the broker wrote", async () => {
    const out = lastJson(await run(exportsFor("aws-credential-process", "sqs-writer"), node(awsJs("providers.fromNodeProviderChain()"))));
    expect(out).toMatchObject({ ...expectedAws("sqs-writer"), accountId: "123456789012" });
  });
});

describe("Azure Identity for JavaScript", () => {
  const azureJs = (credential: string, scope: string) => `
import * as identity from "@azure/identity";
const token = await (${credential}).getToken(${JSON.stringify(scope)});
console.log(JSON.stringify({ token: token.token, expiresOnTimestamp: token.expiresOnTimestamp }));
`;

  it("DefaultAzureCredential through the App Service endpoint (IDENTITY_HEADER read from the secret file by the shell)", async () => {
    broker.seen.length = 0;
    const out = lastJson(
      await run(
        exportsFor("azure-app-service"),
        node(azureJs("new identity.DefaultAzureCredential()", "https://storage.azure.com/.default")),
      ),
    );
    expect(out.token).toBe("azure-token:storage https://storage.azure.com/.default");
    expectExpiry(out.expiresOnTimestamp);
    const request = broker.seen.find((r) => r.path === "/v1/azure/msi/token");
    expect(request?.headers["x-identity-header"]).toBe(readFileSync(join(dir, "azure-identity-header"), "utf8"));
    expect(new URLSearchParams(request?.query).get("client_id")).toBe(STORAGE_CLIENT);
  });

  it("ManagedIdentityCredential for a user-assigned identity (client_id) through the App Service endpoint", async () => {
    const out = lastJson(
      await run(
        exportsFor("azure-app-service", "vault"),
        node(
          azureJs(
            `new identity.ManagedIdentityCredential({ clientId: ${JSON.stringify(VAULT_CLIENT)} })`,
            "https://vault.azure.net/.default",
          ),
        ),
      ),
    );
    expect(out.token).toBe("azure-token:vault https://vault.azure.net/.default");
  });

  it("DefaultAzureCredential through the IMDS endpoint (AZURE_POD_IDENTITY_AUTHORITY_HOST)", async () => {
    broker.seen.length = 0;
    const out = lastJson(
      await run(exportsFor("azure-imds"), node(azureJs("new identity.DefaultAzureCredential()", "https://storage.azure.com/.default"))),
    );
    expect(out.token).toBe("azure-token:storage https://storage.azure.com/.default");
    expectExpiry(out.expiresOnTimestamp);
    const request = broker.seen.find((r) => r.path.startsWith("/metadata/identity/oauth2/token"));
    expect(request?.headers.metadata).toBe("true");
    expect(new URLSearchParams(request?.query).get("api-version")).toBe("2018-02-01");
    // MSAL Node's URL handling adds a trailing slash to the path; the endpoint serves both spellings.
    expect(request?.path).toBe("/metadata/identity/oauth2/token/");
  });

  it("DefaultAzureCredential fails cleanly when the identity may not get the resource (400, no retry storm)", async () => {
    broker.seen.length = 0;
    const out = await run(
      exportsFor("azure-app-service"),
      node(azureJs("new identity.ManagedIdentityCredential()", "https://graph.microsoft.com/.default")),
    );
    expect(out.code).not.toBe(0);
    expect(broker.seen.filter((r) => r.path === "/v1/azure/msi/token")).toHaveLength(1);
  });
});

describe("Python SDKs from .venv (boto3, azure-identity; `npm run setup` installs them)", () => {
  const boto = `
import json, boto3
creds = boto3.Session().get_credentials()
frozen = creds.get_frozen_credentials()
print(json.dumps({"method": creds.method, "accessKeyId": frozen.access_key, "secretAccessKey": frozen.secret_key, "sessionToken": frozen.token, "accountId": getattr(frozen, "account_id", None), "expiration": creds._expiry_time.isoformat()}))
`;

  it("boto3 takes credentials from the container endpoint with the token file", async () => {
    const out = lastJson(await run(exportsFor("aws-container", "sqs-writer"), python(boto)));
    const { expiration, ...rest } = expectedAws("sqs-writer");
    expect(out).toMatchObject({ method: "container-role", ...rest, accountId: "123456789012" });
    expect(Date.parse(out.expiration as string)).toBe(Date.parse(expiration));
  });

  it("boto3 runs the credential_process from the config file the broker wrote", async () => {
    const out = lastJson(await run(exportsFor("aws-credential-process"), python(boto)));
    const { expiration, ...rest } = expectedAws("s3-reader");
    expect(out).toMatchObject({ method: "custom-process", ...rest });
    expect(Date.parse(out.expiration as string)).toBe(Date.parse(expiration));
  });

  const azurePy = (scope: string) => `
import json
from azure.identity import DefaultAzureCredential
t = DefaultAzureCredential().get_token(${JSON.stringify(scope)})
print(json.dumps({"token": t.token, "expires_on": t.expires_on}))
`;

  it.each([
    ["azure-app-service", "/v1/azure/msi/token"],
    ["azure-imds", "/metadata/identity/oauth2/token"],
  ] as const)("azure-identity DefaultAzureCredential through %s (path %s)", async (mode, path) => {
    broker.seen.length = 0;
    const out = lastJson(await run(exportsFor(mode), python(azurePy("https://storage.azure.com/.default"))));
    expect(out).toEqual({ token: "azure-token:storage https://storage.azure.com/.default", expires_on: source.expiresAt.getTime() / 1000 });
    expect(broker.seen.map((r) => r.path)).toEqual([path]);
  });
});
