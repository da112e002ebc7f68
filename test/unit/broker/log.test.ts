import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { BrokerError } from "../../../broker/errors.ts";
import { createLogger, REDACTED, tokenFingerprint } from "../../../broker/log.ts";

const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJwYXltZW50cyJ9.c2lnbmF0dXJlLWJ5dGVz";

function capture(level: "debug" | "info" | "warn" | "error" = "debug") {
  const lines: string[] = [];
  const log = createLogger({ level, write: (line) => lines.push(line), now: () => new Date("2030-01-01T00:00:00Z") });
  const parsed = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { log, lines, parsed };
}

describe("tokenFingerprint", () => {
  it("is the first 16 hex characters of sha256", () => {
    expect(tokenFingerprint("abc")).toBe(createHash("sha256").update("abc").digest("hex").slice(0, 16));
    expect(tokenFingerprint("abc")).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe("createLogger", () => {
  it("writes one JSON line per event with time, level, message and fields", () => {
    const { log, lines, parsed } = capture();
    log.child({ component: "cache" }).info("refreshed", { target: "s3", expiresAt: new Date("2030-01-01T01:00:00Z") });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith("\n")).toBe(true);
    expect(parsed()[0]).toEqual({
      time: "2030-01-01T00:00:00.000Z",
      level: "info",
      msg: "refreshed",
      component: "cache",
      target: "s3",
      expiresAt: "2030-01-01T01:00:00.000Z",
    });
  });

  it("drops events below the level", () => {
    const { log, parsed } = capture("warn");
    log.debug("a");
    log.info("b");
    log.warn("c");
    log.error("d");
    expect(parsed().map((l) => l.msg)).toEqual(["c", "d"]);
  });

  it.each([
    ["accessToken"],
    ["sessionToken"],
    ["secretAccessKey"],
    ["client_secret"],
    ["client_assertion"],
    ["authorization"],
    ["password"],
    ["privateKey"],
  ])("redacts a field named %s, however deep", (name) => {
    const { log, lines } = capture();
    log.info("x", { nested: { [name]: "s3cr3t-value" }, list: [{ [name]: "s3cr3t-value" }] });
    expect(lines[0]).not.toContain("s3cr3t-value");
    expect(lines[0]).toContain(REDACTED);
  });

  it("keeps fingerprints, file paths and types of secrets", () => {
    const { log, parsed } = capture();
    log.info("x", { token_sha256: "abcd", tokenFile: "/var/run/token", client_assertion_type: "jwt-bearer" });
    expect(parsed()[0]).toMatchObject({ token_sha256: "abcd", tokenFile: "/var/run/token", client_assertion_type: "jwt-bearer" });
  });

  it("replaces a JWT anywhere (message, innocent field, error message) with its fingerprint", () => {
    const { log, lines } = capture();
    log.error(`got ${jwt}`, {
      detail: `Bearer ${jwt}`,
      err: new BrokerError("KEYCLOAK_REJECTED", `bad ${jwt}`, { cause: new Error(jwt) }),
    });
    expect(lines[0]).not.toContain(jwt);
    expect(lines[0]).toContain(`[jwt sha256:${tokenFingerprint(jwt)}]`);
    expect(JSON.parse(lines[0] ?? "{}")).toMatchObject({ err: { name: "BrokerError", code: "KEYCLOAK_REJECTED" } });
  });

  it("never throws when the sink fails", () => {
    const log = createLogger({
      write: () => {
        throw new Error("EPIPE");
      },
    });
    expect(() => log.error("x")).not.toThrow();
  });
});
