import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createApp } from "../../../../broker/app.ts";
import { BrokerError } from "../../../../broker/errors.ts";
import { awsConfigFile, fetchCredentialProcess, formatCredentialProcess } from "../../../../broker/serve/aws-credential-process.ts";
import { generateSecret } from "../../../../broker/serve/secret.ts";
import { shellQuote } from "../../../../broker/serve/shell-quote.ts";
import { FakeSource } from "../../../support/fakes/credential-source.ts";
import { allOn } from "../../../support/fixtures/serve-options.ts";

const dir = mkdtempSync(join(tmpdir(), "broker-cp-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("formatCredentialProcess", () => {
  it("prints the Version 1 document with an RFC 3339 Z expiration", () => {
    const out = formatCredentialProcess({
      accessKeyId: "ASIA1",
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date("2030-01-01T12:00:00.789Z"),
      accountId: "123456789012",
    });
    expect(out).toBe(
      '{"Version":1,"AccessKeyId":"ASIA1","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T12:00:00Z","AccountId":"123456789012"}',
    );
  });
});

describe("awsConfigFile", () => {
  it("a default profile and one profile per target, arguments quoted for both a shell and shlex", () => {
    expect(awsConfigFile(["/opt/cloud broker/cloud-broker", "credential-process"], ["s3-reader", "sqs-writer"], "s3-reader")).toBe(
      [
        "[default]",
        "credential_process = '/opt/cloud broker/cloud-broker' credential-process --target s3-reader",
        "",
        "[profile s3-reader]",
        "credential_process = '/opt/cloud broker/cloud-broker' credential-process --target s3-reader",
        "",
        "[profile sqs-writer]",
        "credential_process = '/opt/cloud broker/cloud-broker' credential-process --target sqs-writer",
        "",
      ].join("\n"),
    );
  });

  it.each([
    ["plain", "plain"],
    ["", "''"],
    ["a b", "'a b'"],
    ["it's", `'it'\\''s'`],
    ["$HOME", "'$HOME'"],
  ])("shellQuote(%j) = %s", (value, quoted) => {
    expect(shellQuote(value)).toBe(quoted);
  });
});

describe("fetchCredentialProcess (against the app)", () => {
  const secret = generateSecret();
  const tokenFile = join(dir, "aws-container-token");
  writeFileSync(tokenFile, secret);
  const source = new FakeSource();
  const app = createApp({ source, options: allOn(dir), secrets: { awsContainerToken: secret, appServiceHeader: generateSecret() } });
  const viaApp = ((url: string, init?: RequestInit) => Promise.resolve(app.request(url, init))) as typeof fetch;

  it("turns the container document into credential_process output", async () => {
    const out = await fetchCredentialProcess({
      baseUrl: "http://127.0.0.1:8999",
      target: "s3-reader",
      authTokenFile: tokenFile,
      fetch: viaApp,
    });
    expect(JSON.parse(out)).toEqual({
      Version: 1,
      AccessKeyId: "ASIAS3READERXXXXXXXX",
      SecretAccessKey: "secret-s3-reader",
      SessionToken: "session-s3-reader",
      Expiration: "2030-01-01T12:00:00Z",
      AccountId: "123456789012",
    });
  });

  it.each([
    ["an unknown target", { target: "nope" }, "UNKNOWN_TARGET"],
    ["a wrong secret", { authTokenFile: join(dir, "wrong") }, "UNAUTHORIZED"],
    ["a missing secret file", { authTokenFile: join(dir, "missing") }, "CONFIG_INVALID"],
    ["an unreachable sidecar", { fetch: () => Promise.reject(new TypeError("fetch failed")) }, "AWS_RETRYABLE"],
  ])("fails with the sidecar's code for %s", async (_case, override, code) => {
    writeFileSync(join(dir, "wrong"), generateSecret());
    const error = await fetchCredentialProcess({
      baseUrl: "http://127.0.0.1:8999",
      target: "s3-reader",
      authTokenFile: tokenFile,
      fetch: viaApp,
      ...override,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerError);
    expect((error as BrokerError).code).toBe(code);
  });

  it("passes a retryable sidecar error on as retryable", async () => {
    source.failWith = new BrokerError("CREDENTIALS_EXPIRING", "x");
    const error = await fetchCredentialProcess({
      baseUrl: "http://127.0.0.1:8999",
      target: "s3-reader",
      authTokenFile: tokenFile,
      fetch: viaApp,
    }).catch((e: unknown) => e);
    source.failWith = undefined;
    expect((error as BrokerError).code).toBe("CREDENTIALS_EXPIRING");
  });
});
