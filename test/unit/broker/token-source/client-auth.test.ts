import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { calculateJwkThumbprint, decodeProtectedHeader, exportJWK, jwtVerify } from "jose";
import { afterAll, describe, expect, it } from "vitest";
import {
  clientAuthFor,
  clientSecretFileAuth,
  federatedServiceAccountAuth,
  JWT_BEARER_ASSERTION_TYPE,
  privateKeyJwtAuth,
  readServiceAccountToken,
  type ClientAuth,
} from "../../../../broker/token-source/client-auth.ts";
import { signToken } from "../../../support/fixtures/tokens.ts";

const dir = mkdtempSync(join(tmpdir(), "kcb-client-auth-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};

const AS = {
  issuer: "https://kc.example.com/realms/prod",
  tokenEndpoint: "https://kc.example.com/realms/prod/protocol/openid-connect/token",
};

async function apply(auth: ClientAuth): Promise<{ body: URLSearchParams; headers: Record<string, string> }> {
  const body = new URLSearchParams();
  const headers: Record<string, string> = {};
  await auth({ ...AS, clientId: "payments-api", body, headers });
  return { body, headers };
}

async function code(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
}

describe("kubernetes: the projected service-account token as federated client assertion", () => {
  it("sends the current file content as client_assertion, re-read on every request", async () => {
    const now = Math.floor(Date.now() / 1000);
    const first = await signToken({ iss: "https://kube.example", sub: "system:serviceaccount:payments:api", exp: now + 600 });
    const path = file("sa-token", `${first}\n`);
    const auth = federatedServiceAccountAuth(path);
    const { body } = await apply(auth);
    expect(Object.fromEntries(body)).toEqual({
      client_id: "payments-api",
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: first,
    });

    const rotated = await signToken({ iss: "https://kube.example", sub: "system:serviceaccount:payments:api", exp: now + 1200 });
    writeFileSync(path, rotated);
    expect((await apply(auth)).body.get("client_assertion")).toBe(rotated);
  });

  it.each([
    ["a missing file", () => join(dir, "absent")],
    ["a file that is not a JWT", () => file("garbage", "not a token")],
  ])("refuses %s as CLIENT_ASSERTION_UNREADABLE", async (_what, path) => {
    expect(await code(readServiceAccountToken(path(), Date.now()))).toBe("CLIENT_ASSERTION_UNREADABLE");
  });

  it("never sends an expired token", async () => {
    const expired = await signToken({ sub: "system:serviceaccount:payments:api", exp: Math.floor(Date.now() / 1000) - 5 });
    expect(await code(apply(federatedServiceAccountAuth(file("expired", expired))))).toBe("CLIENT_ASSERTION_UNREADABLE");
  });
});

describe("private_key_jwt", () => {
  const keys = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = keys.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

  it("signs an assertion Keycloak can verify, with the key's RFC 7638 thumbprint as kid by default", async () => {
    const auth = privateKeyJwtAuth(file("key.pem", pem), "RS256", undefined);
    const { body } = await apply(auth);
    expect(body.get("client_assertion_type")).toBe(JWT_BEARER_ASSERTION_TYPE);
    expect(body.get("client_id")).toBe("payments-api");
    const assertion = body.get("client_assertion") ?? "";
    const { payload } = await jwtVerify(assertion, keys.publicKey, {
      issuer: "payments-api",
      subject: "payments-api",
      audience: AS.issuer,
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    expect(decodeProtectedHeader(assertion).kid).toBe(await calculateJwkThumbprint(await exportJWK(keys.publicKey)));
  });

  it("uses a configured kid, and re-imports the key when the file changes", async () => {
    const path = file("key2.pem", pem);
    const auth = privateKeyJwtAuth(path, "RS256", "kid-1");
    expect(decodeProtectedHeader((await apply(auth)).body.get("client_assertion") ?? "").kid).toBe("kid-1");
    const next = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(path, next.privateKey.export({ type: "pkcs8", format: "pem" }).toString());
    const assertion = (await apply(auth)).body.get("client_assertion") ?? "";
    await expect(jwtVerify(assertion, next.publicKey)).resolves.toBeTruthy();
  });

  it.each([
    ["a missing key file", () => join(dir, "absent.pem"), "RS256"],
    [
      "a key that is not PKCS#8 PEM",
      () => file("bad.pem", `-----BEGIN ${"PRIVATE"} KEY-----\nAAAA\n-----END ${"PRIVATE"} KEY-----\n`),
      "RS256",
    ],
    ["an RSA key with an EC algorithm", () => file("rsa-for-ec.pem", pem), "ES256"],
  ])("refuses %s as CLIENT_ASSERTION_UNREADABLE", async (_what, path, alg) => {
    expect(await code(apply(privateKeyJwtAuth(path(), alg, undefined)))).toBe("CLIENT_ASSERTION_UNREADABLE");
  });
});

describe("client secret from a file", () => {
  it("sends client_secret_post without the file's trailing newline, re-read on every request", async () => {
    const path = file("secret", "s3cr3t\n");
    const auth = clientSecretFileAuth(path, "client_secret_post");
    expect(Object.fromEntries((await apply(auth)).body)).toEqual({ client_id: "payments-api", client_secret: "s3cr3t" });
    writeFileSync(path, "rotated");
    expect((await apply(auth)).body.get("client_secret")).toBe("rotated");
  });

  it("sends client_secret_basic as an Authorization header", async () => {
    const { body, headers } = await apply(clientSecretFileAuth(file("secret-basic", "s3cr3t"), "client_secret_basic"));
    expect(body.get("client_secret")).toBeNull();
    // RFC 6749 §2.3.1: id and secret form-urlencoded, then base64.
    const [scheme, value = ""] = (headers.authorization ?? "").split(" ");
    expect(scheme).toBe("Basic");
    expect(Buffer.from(value, "base64").toString().split(":").map(decodeURIComponent)).toEqual(["payments-api", "s3cr3t"]);
  });

  it.each([
    ["missing", () => join(dir, "no-secret")],
    ["empty", () => file("empty-secret", "\n")],
  ])("refuses a %s secret file", async (_what, path) => {
    expect(await code(apply(clientSecretFileAuth(path(), "client_secret_post")))).toBe("CLIENT_ASSERTION_UNREADABLE");
  });
});

describe("clientAuthFor", () => {
  it("builds the configured method", async () => {
    const secret = file("secret-for", "abc");
    const { body } = await apply(clientAuthFor({ clientSecret: { file: secret, method: "client_secret_post" } }));
    expect(body.get("client_secret")).toBe("abc");
    expect(() => clientAuthFor({})).toThrow(TypeError);
  });
});
