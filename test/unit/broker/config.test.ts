import { describe, expect, it } from "vitest";
import { ENV_VARS, formatConfigError, parseBrokerConfig, type ConfigError } from "../../../broker/config.ts";

const VALID = `issuer: https://kc.example.com/realms/prod
clientId: payments-api
authentication:
  kubernetes:
    tokenFile: tokens/keycloak
aws:
  region: eu-west-1
  roles:
    - name: s3-reader
      arn: arn:aws:iam::123456789012:role/s3-reader
      durationSeconds: 3600
      sessionPolicy:
        Version: "2012-10-17"
        Statement: [{ Effect: Allow, Action: "s3:GetObject", Resource: "*" }]
azure:
  identities:
    - name: blob
      tenantId: 11111111-2222-3333-4444-555555555555
      clientId: 66666666-7777-8888-9999-000000000000
      scopes: [https://storage.azure.com/.default, https://vault.azure.net/.default]
`;

function errorsOf(text: string, env: Record<string, string> = {}): ConfigError[] {
  const result = parseBrokerConfig(text, env, { file: "/etc/kcb/broker.yaml" });
  if (result.ok) throw new Error("expected errors");
  return result.errors;
}

describe("parseBrokerConfig", () => {
  it("accepts a valid file, fills defaults, compacts the session policy and resolves relative paths against the file", () => {
    const result = parseBrokerConfig(VALID, {}, { file: "/etc/kcb/broker.yaml" });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const { config } = result;
    expect(config.authentication).toEqual({ kubernetes: { tokenFile: "/etc/kcb/tokens/keycloak" } });
    expect(config.aws?.roles[0]?.sessionPolicy).toBe(
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
    );
    expect(config.azure?.authorityHost).toBe("https://login.microsoftonline.com");
    expect(config.serve).toMatchObject({
      host: "127.0.0.1",
      port: 8999,
      allowNonLoopback: false,
      stateDir: "/var/run/cloud-broker",
      fileMode: "0600",
      retryAfterSeconds: 2,
    });
    expect(config.refresh).toEqual({
      aheadSeconds: 1200,
      jitterSeconds: 120,
      stopServingSeconds: 300,
      retryMinSeconds: 1,
      retryMaxSeconds: 30,
    });
    expect(config.upstream).toEqual({ timeoutSeconds: 10, maxAttempts: 3 });
    expect(config.log.level).toBe("info");
  });

  it.each<[string, string, Array<Partial<ConfigError>>]>([
    ["a YAML syntax error", "issuer: [unclosed\n", [{ line: 2, path: "" }]],
    ["a document that is not a mapping", "- a\n- b\n", [{ message: "the config must be a YAML mapping" }]],
    [
      "an http issuer",
      VALID.replace("https://kc.example.com", "http://kc.example.com"),
      [{ path: "issuer", line: 1, column: 1, message: "must be an https:// URL" }],
    ],
    [
      "an unknown key",
      VALID.replace("clientId: payments-api", "clientId: payments-api\nclientid: typo"),
      [{ path: "", message: "unknown key: clientid" }],
    ],
    [
      "two authentication methods",
      VALID.replace("    tokenFile: tokens/keycloak", "    tokenFile: tokens/keycloak\n  clientSecret: { file: s }"),
      [{ path: "authentication", line: 3, message: "exactly one method allowed, found kubernetes, clientSecret" }],
    ],
    [
      "no authentication method",
      VALID.replace("  kubernetes:\n    tokenFile: tokens/keycloak", "  {}"),
      [{ path: "authentication", message: "exactly one of kubernetes, privateKeyJwt, clientSecret is required" }],
    ],
    [
      "a private key without alg",
      VALID.replace("  kubernetes:\n    tokenFile: tokens/keycloak", "  privateKeyJwt: { keyFile: key.pem }"),
      [{ path: "authentication.privateKeyJwt.alg" }],
    ],
    ["a bad role ARN", VALID.replace("123456789012:role/s3-reader", "12345:role/s3-reader"), [{ path: "aws.roles[0].arn", line: 10 }]],
    [
      "a duration below 900 s",
      VALID.replace("durationSeconds: 3600", "durationSeconds: 600"),
      [{ path: "aws.roles[0].durationSeconds", message: "900–43200 seconds" }],
    ],
    [
      "a session policy that is not JSON",
      VALID.replace(/sessionPolicy:\n.*\n.*\n/, "sessionPolicy: '{\"Version\":'\n"),
      [{ path: "aws.roles[0].sessionPolicy", message: "not valid JSON" }],
    ],
    [
      "a session policy over 2,048 characters",
      VALID.replace('Resource: "*"', `Resource: "${"x".repeat(2100)}"`),
      [{ path: "aws.roles[0].sessionPolicy", message: expect.stringMatching(/^at most 2048 characters/) as string }],
    ],
    [
      "an invalid session name",
      VALID.replace("durationSeconds: 3600", "durationSeconds: 3600\n      sessionName: has space"),
      [{ path: "aws.roles[0].sessionName" }],
    ],
    [
      "a tenant that is not a GUID",
      VALID.replace("11111111-2222-3333-4444-555555555555", "contoso"),
      [{ path: "azure.identities[0].tenantId", message: "a GUID" }],
    ],
    [
      "a scope without /.default",
      VALID.replace("https://vault.azure.net/.default", "https://vault.azure.net"),
      [{ path: "azure.identities[0].scopes[1]" }],
    ],
    [
      "an http authority host",
      VALID.replace("azure:\n", "azure:\n  authorityHost: http://login.example\n"),
      [{ path: "azure.authorityHost" }],
    ],
    [
      "a target name used twice",
      VALID.replace("- name: blob", "- name: s3-reader"),
      [{ path: "azure.identities[0].name", message: 'target name "s3-reader" is already used by aws.roles[0]' }],
    ],
    [
      "no cloud at all",
      "issuer: https://kc.example.com/realms/prod\nclientId: a\nauthentication: { clientSecret: { file: s } }\n",
      [{ path: "", message: "configure at least one of aws, azure, agents" }],
    ],
    [
      "a non-loopback listen address",
      `${VALID}serve: { host: 0.0.0.0 }\n`,
      [{ path: "serve.host", message: expect.stringContaining("not a loopback address") as string }],
    ],
    [
      "a stop window not shorter than the refresh window",
      `${VALID}refresh: { aheadSeconds: 300, stopServingSeconds: 300 }\n`,
      [{ path: "refresh.stopServingSeconds" }],
    ],
  ])("reports %s with its location", (_what, text, expected) => {
    const errors = errorsOf(text);
    expect(errors).toEqual(expected.map((e) => expect.objectContaining(e) as unknown));
  });

  it("lists every error of a file at once, in file order", () => {
    const text = VALID.replace("https://kc", "http://kc")
      .replace("durationSeconds: 3600", "durationSeconds: 1")
      .replace("11111111-2222-3333-4444-555555555555", "x");
    const errors = errorsOf(text);
    expect(errors.map((e) => e.path)).toEqual(["issuer", "aws.roles[0].durationSeconds", "azure.identities[0].tenantId"]);
    expect(errors.map((e) => e.line)).toEqual([1, 11, 18]);
    expect(formatConfigError(errors[1]!)).toBe("/etc/kcb/broker.yaml:11:7 aws.roles[0].durationSeconds: 900–43200 seconds");
  });

  it("accepts loopback addresses; a non-loopback host only with allowNonLoopback, and never for the secret-less IMDS endpoint", () => {
    expect(parseBrokerConfig(`${VALID}serve: { host: "::1" }\n`).ok).toBe(true);
    expect(parseBrokerConfig(`${VALID}serve: { host: localhost }\n`).ok).toBe(true);
    expect(parseBrokerConfig(`${VALID}serve: { host: 127.0.0.2 }\n`).ok).toBe(true);
    // The same strict rule as the serving layer (broker/serve/loopback.ts): not an address, not loopback.
    expect(errorsOf(`${VALID}serve: { host: 127.0.0.300 }\n`)).toEqual([
      expect.objectContaining({ path: "serve.host", message: expect.stringContaining("not a loopback address") as string }),
    ]);
    expect(errorsOf(`${VALID}serve: { host: 0.0.0.0 }\n`)).toEqual([
      expect.objectContaining({ path: "serve.host", message: expect.stringContaining("not a loopback address") as string }),
    ]);
    expect(parseBrokerConfig(`${VALID}serve: { host: 0.0.0.0, allowNonLoopback: true, azure: { imds: false } }\n`).ok).toBe(true);
    const errors = errorsOf(`${VALID}serve: { host: 0.0.0.0, allowNonLoopback: true, azure: { imds: true } }\n`);
    expect(errors).toEqual([expect.objectContaining({ message: expect.stringContaining("IMDS endpoint has no secret header") as string })]);
  });
});

describe("the agents section", () => {
  const TLS = "listen: { tls: { certFile: tls/agents.pem, keyFile: tls/agents-key.pem } }";

  it("resolves its files against the config file and fills defaults (loopback HTTPS listener of its own)", () => {
    const result = parseBrokerConfig(
      `${VALID}agents: { realmConfigFile: realm.yaml, delegationKey: { keyFile: keys/d.pem }, ${TLS} }\n`,
      {},
      { file: "/etc/kcb/broker.yaml" },
    );
    expect(result.ok && result.config.agents).toEqual({
      realmConfigFile: "/etc/kcb/realm.yaml",
      delegationKey: { keyFile: "/etc/kcb/keys/d.pem", alg: "RS256" },
      listen: { host: "127.0.0.1", port: 8443, tls: { certFile: "/etc/kcb/tls/agents.pem", keyFile: "/etc/kcb/tls/agents-key.pem" } },
      rateLimit: { burst: 10, perSecond: 1 },
    });
  });

  it("needs a TLS certificate and key: there is no plain-http token-exchange endpoint", () => {
    expect(errorsOf(`${VALID}agents: { realmConfigFile: r.yaml, delegationKey: { keyFile: d.pem } }\n`)).toEqual([
      expect.objectContaining({ path: "agents.listen" }),
    ]);
    expect(
      errorsOf(`${VALID}agents: { realmConfigFile: r.yaml, delegationKey: { keyFile: d.pem }, listen: { tls: { certFile: c.pem } } }\n`),
    ).toEqual([expect.objectContaining({ path: "agents.listen.tls.keyFile" })]);
  });

  it("refuses the credential listener's or the ops listener's port", () => {
    const ops = VALID.includes("serve:") ? VALID : `${VALID}serve: { port: 8999 }\n`;
    expect(
      errorsOf(
        `${ops}agents: { realmConfigFile: r.yaml, delegationKey: { keyFile: d.pem }, listen: { port: 8999, tls: { certFile: c.pem, keyFile: k.pem } } }\n`,
      ),
    ).toEqual([expect.objectContaining({ path: "agents.listen.port", message: expect.stringContaining("serve.port") as string })]);
  });

  it("may stand alone with its own AWS region, but needs one", () => {
    const base = "issuer: https://kc.example.com/realms/prod\nclientId: broker\nauthentication: { clientSecret: { file: s } }\n";
    expect(
      parseBrokerConfig(
        `${base}agents: { realmConfigFile: r.yaml, delegationKey: { keyFile: d.pem }, aws: { region: eu-west-1 }, ${TLS} }\n`,
      ).ok,
    ).toBe(true);
    expect(errorsOf(`${base}agents: { realmConfigFile: r.yaml, delegationKey: { keyFile: d.pem }, ${TLS} }\n`)).toEqual([
      expect.objectContaining({ path: "agents", message: expect.stringContaining("need an AWS region") as string }),
    ]);
  });
});

describe("environment overrides", () => {
  it("override the file", () => {
    const result = parseBrokerConfig(VALID, {
      CLOUD_BROKER_ISSUER: "https://other.example.com/realms/x",
      CLOUD_BROKER_PORT: "8081",
      CLOUD_BROKER_HOST: "127.0.0.9",
      CLOUD_BROKER_STS_ENDPOINT: "http://127.0.0.1:4566",
      CLOUD_BROKER_LOG_LEVEL: "debug",
      PATH: "/usr/bin",
    });
    expect(result.ok && result.config).toMatchObject({
      issuer: "https://other.example.com/realms/x",
      serve: { host: "127.0.0.9", port: 8081 },
      aws: { stsEndpoint: "http://127.0.0.1:4566" },
      log: { level: "debug" },
    });
  });

  it("replace the authentication method, keeping the same method's other fields", () => {
    const secret = parseBrokerConfig(VALID, { CLOUD_BROKER_CLIENT_SECRET_FILE: "/run/secret" });
    expect(secret.ok && secret.config.authentication).toEqual({ clientSecret: { file: "/run/secret", method: "client_secret_post" } });
    const key = parseBrokerConfig(
      VALID.replace("  kubernetes:\n    tokenFile: tokens/keycloak", "  privateKeyJwt: { keyFile: a.pem, alg: ES256, kid: k1 }"),
      {
        CLOUD_BROKER_PRIVATE_KEY_FILE: "/run/key.pem",
      },
    );
    expect(key.ok && key.config.authentication).toEqual({ privateKeyJwt: { keyFile: "/run/key.pem", alg: "ES256", kid: "k1" } });
  });

  it("can carry the whole config without a file, except the targets", () => {
    const result = parseBrokerConfig("aws:\n  roles: [{ name: s3, arn: 'arn:aws:iam::123456789012:role/r' }]\n", {
      CLOUD_BROKER_ISSUER: "https://kc.example.com/realms/prod",
      CLOUD_BROKER_CLIENT_ID: "payments",
      CLOUD_BROKER_KUBERNETES_TOKEN_FILE: "/var/run/secrets/tokens/kc",
      CLOUD_BROKER_AWS_REGION: "us-east-1",
    });
    expect(result.ok).toBe(true);
  });

  it.each<[string, Record<string, string>, Partial<ConfigError>]>([
    [
      "an unknown CLOUD_BROKER_ variable (a typo)",
      { CLOUD_BROKER_PROT: "1" },
      { env: "CLOUD_BROKER_PROT", message: expect.stringMatching(/^unknown variable/) as string },
    ],
    ["a port that is not a number", { CLOUD_BROKER_PORT: "http" }, { env: "CLOUD_BROKER_PORT", message: 'must be an integer, got "http"' }],
    ["a boolean that is not true/false", { CLOUD_BROKER_ALLOW_NON_LOOPBACK: "yes" }, { env: "CLOUD_BROKER_ALLOW_NON_LOOPBACK" }],
    [
      "an invalid value (located at the variable, not the file)",
      { CLOUD_BROKER_ISSUER: "http://x/realms/y" },
      { env: "CLOUD_BROKER_ISSUER", path: "issuer" },
    ],
    [
      "two authentication variables",
      { CLOUD_BROKER_CLIENT_SECRET_FILE: "/a", CLOUD_BROKER_KUBERNETES_TOKEN_FILE: "/b" },
      { env: "CLOUD_BROKER_CLIENT_SECRET_FILE, CLOUD_BROKER_KUBERNETES_TOKEN_FILE" },
    ],
  ])("report %s", (_what, env, expected) => {
    const errors = errorsOf(VALID, env);
    expect(errors).toEqual([expect.objectContaining(expected)]);
    expect(formatConfigError(errors[0]!)).toMatch(/^\$CLOUD_BROKER_/);
  });

  it("are all documented", () => {
    for (const v of ENV_VARS) {
      expect(v.name).toMatch(/^CLOUD_BROKER_[A-Z_]+$/);
      expect(v.doc.length).toBeGreaterThan(5);
    }
  });
});
