/**
 * The end-of-run log scan (test/support/log-scan.ts) must catch a secret planted in a log, say
 * where it is, and never print it; and it must not cry wolf over what the broker logs on purpose
 * (token fingerprints, access key ids, sha256 digests).
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createLogger, tokenFingerprint } from "../../../broker/log.ts";
import {
  formatReport,
  readKnownSecrets,
  recordSecret,
  scanFiles,
  scanText,
  startLogScan,
  TEST_SECRETS_DIR_ENV,
} from "../../support/log-scan.ts";

const key = generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwt = await new SignJWT({ sub: "workload:orders", aud: "sts.amazonaws.com" })
  .setProtectedHeader({ alg: "RS256", kid: "k1" })
  .setIssuedAt()
  .setExpirationTime("5m")
  .sign(key.privateKey);
const secretAccessKey = randomBytes(30).toString("base64");
const sessionToken = `IQoJb3JpZ2luX2Vj${randomBytes(240).toString("base64")}`;
const clientSecret = randomBytes(24).toString("base64url");
const pem = key.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

const benign = [
  '{"time":"2026-03-01T12:00:00.000Z","level":"info","msg":"credentials refreshed","cloud":"aws","target":"main","expiresAt":"2026-03-01T13:00:00.000Z"}',
  `{"level":"debug","msg":"workload token","token_sha256":"${tokenFingerprint(jwt)}","accessKeyId":"ASIAQWERTYUIOPASDFGH"}`,
  `{"msg":"rejected","detail":"[jwt sha256:${tokenFingerprint(jwt)}]","digest":"${"ab12".repeat(16)}"}`,
  "2026-03-01 12:00:00,000 INFO  [io.quarkus] (main) Keycloak 26.7.3 on JVM started in 9.812s. Listening on: https://127.0.0.1:40211",
  `{"secretAccessKey":"[redacted]","authorization":"[redacted]"}`,
];

describe("scanText", () => {
  it("finds nothing in what the broker logs on purpose", () => {
    expect(scanText(benign.join("\n"), "broker.log", [{ kind: "client-secret", value: clientSecret }])).toEqual([]);
  });

  it.each<[string, string, string]>([
    ["a JWT", `{"msg":"token","value":"${jwt}"}`, "jwt"],
    ["a JWT in an error message", `Error: invalid token ${jwt} (kid k1)`, "jwt"],
    ["a PEM private key", `config dump: ${pem.split("\n")[0]!}`, "pem-private-key"],
    ["an STS session token", `<SessionToken>${sessionToken}</SessionToken>`, "aws-session-token"],
    ["an AWS secret key next to its name", `{"SecretAccessKey":"${secretAccessKey}"}`, "aws-secret-access-key"],
    ["an AWS secret key in an ini file", `aws_secret_access_key = ${secretAccessKey}`, "aws-secret-access-key"],
  ])("catches %s planted among benign lines, with its line number", (_name, planted, kind) => {
    const text = [...benign.slice(0, 3), planted, ...benign.slice(3)].join("\n");
    const findings = scanText(text, "planted.log", []);
    expect(findings.length).toBeGreaterThanOrEqual(1);
    expect(findings[0]).toMatchObject({ file: "planted.log", line: 4, kind });
  });

  it("catches the exact value of a known secret whatever surrounds it", () => {
    const known = [
      { kind: "client-secret", value: clientSecret },
      { kind: "aws-secret-access-key", value: secretAccessKey },
    ];
    const text = ["ok", `client_secret=${clientSecret}&grant_type=client_credentials`, `raw:${secretAccessKey}:end`].join("\n");
    expect(scanText(text, "x.log", known).map((f) => [f.line, f.kind])).toEqual([
      [2, "client-secret"],
      [3, "aws-secret-access-key"],
    ]);
  });

  it("does not search for values too short to be told from chance", () => {
    expect(scanText("the word secret appears here", "x.log", [{ kind: "client-secret", value: "secret" }])).toEqual([]);
  });
});

describe("scanning files and reporting", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "log-scan-unit-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("reports file and line of a planted secret and never prints the secret itself", () => {
    const logs = join(dir, "logs");
    mkdirSync(logs);
    writeFileSync(join(logs, "clean.log"), benign.join("\n"));
    const lines: string[] = [];
    const logger = createLogger({ write: (line) => lines.push(line) });
    logger.info("refreshed", { token: jwt, client_secret: clientSecret, note: `assertion ${jwt}` });
    writeFileSync(join(logs, "broker.log"), lines.join(""));
    // A careless line written around the logger, as a bug would.
    writeFileSync(join(logs, "careless.log"), `ok\nok\nPOST body: client_secret=${clientSecret}\n${sessionToken}\n`);

    const report = scanFiles(
      [join(logs, "clean.log"), join(logs, "broker.log"), join(logs, "careless.log")],
      [{ kind: "client-secret", value: clientSecret }],
    );
    expect(report.files).toBe(3);
    expect(report.findings.map((f) => `${f.file.slice(logs.length + 1)}:${f.line}:${f.kind}`)).toEqual([
      "careless.log:3:client-secret",
      "careless.log:4:aws-session-token",
    ]);
    const printed = formatReport(report);
    expect(printed).toContain("careless.log:3: client-secret [sha256:");
    for (const secret of [clientSecret, sessionToken, jwt]) expect(printed).not.toContain(secret);
  });

  it("reads the secrets recorded by test processes, and ignores a line cut by a kill", () => {
    const secrets = join(dir, "secrets");
    mkdirSync(secrets);
    const env = { [TEST_SECRETS_DIR_ENV]: secrets };
    recordSecret("client-secret", clientSecret, env);
    recordSecret("aws-secret-access-key", secretAccessKey, env);
    recordSecret("too-short", "abc", env);
    writeFileSync(join(secrets, "99999.jsonl"), '{"kind":"client-secret","val');
    expect(
      readKnownSecrets(secrets)
        .map((s) => s.kind)
        .sort(),
    ).toEqual(["aws-secret-access-key", "client-secret"]);
  });

  it("startLogScan: preloads the tee through NODE_OPTIONS and fails the run (exit code 1) on a hit, keeping the logs", () => {
    const scan = startLogScan(join(dir, "run"), { NODE_OPTIONS: "--max-old-space-size=512" });
    expect(scan.env.NODE_OPTIONS).toMatch(/^--max-old-space-size=512 --import=file:\/\/.*\/faults\/log-tee\.mjs$/);
    recordSecret("client-secret", clientSecret, { [TEST_SECRETS_DIR_ENV]: scan.secretsDir });
    writeFileSync(join(scan.logDir, "1-main.ts-serve.stderr.log"), `{"msg":"oops","secret":"${clientSecret}"}\n`);
    const previous = process.exitCode;
    const errors: string[] = [];
    const original = console.error;
    console.error = (text: string) => errors.push(text);
    try {
      const report = scan.finish([]);
      expect(report.findings).toHaveLength(1);
      expect(process.exitCode).toBe(1);
      expect(errors.join("\n")).toContain("1-main.ts-serve.stderr.log:1: client-secret");
      expect(errors.join("\n")).not.toContain(clientSecret);
    } finally {
      console.error = original;
      process.exitCode = previous;
    }
  });
});
