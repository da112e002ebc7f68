import { describe, expect, it } from "vitest";
import { guardedSecret, hostAllower } from "../../../../broker/serve/lane-headers.ts";

const loopbackOnly = hostAllower();

describe("guardedSecret: the fast lane's one pass over the raw header list", () => {
  it("returns the secret header's value whatever the names' case", () => {
    expect(
      guardedSecret(["Host", "127.0.0.1:8999", "Authorization", "s3cr3t", "Connection", "keep-alive"], "authorization", loopbackOnly),
    ).toBe("s3cr3t");
    expect(guardedSecret(["X-IDENTITY-HEADER", "abc", "host", "localhost"], "x-identity-header", loopbackOnly)).toBe("abc");
  });

  it.each([
    ["no secret header", ["host", "127.0.0.1"]],
    ["no Host", ["authorization", "s"]],
    ["a foreign Host", ["host", "attacker.example", "authorization", "s"]],
    ["the secret header twice", ["host", "127.0.0.1", "authorization", "s", "Authorization", "s"]],
    ["Host twice", ["host", "127.0.0.1", "Host", "attacker.example", "authorization", "s"]],
    ["Forwarded", ["host", "127.0.0.1", "authorization", "s", "Forwarded", "for=10.0.0.7"]],
    ["Via", ["Via", "1.1 proxy", "host", "127.0.0.1", "authorization", "s"]],
    ["X-Real-IP", ["host", "127.0.0.1", "X-Real-IP", "10.0.0.7", "authorization", "s"]],
    ["X-Forwarded-Host", ["host", "127.0.0.1", "authorization", "s", "x-forwarded-host", "evil"]],
  ])("leaves the request to the app with %s", (_what, rawHeaders) => {
    expect(guardedSecret(rawHeaders, "authorization", loopbackOnly)).toBeUndefined();
  });
});

describe("hostAllower: the guard's Host rule, remembered per listener", () => {
  it("allows loopback names and addresses with or without a port, and refuses others", () => {
    const allowed = hostAllower();
    for (const host of ["127.0.0.1:8999", "localhost", "[::1]:80", "127.0.0.1:8999"]) expect(allowed(host)).toBe(true);
    for (const host of ["10.1.2.3:8999", "attacker.example", "169.254.169.254", ""]) expect(allowed(host)).toBe(false);
  });

  it("allows the listener's own host only when it is given", () => {
    expect(hostAllower("10.1.2.3")("10.1.2.3:8999")).toBe(true);
    expect(hostAllower()("10.1.2.3:8999")).toBe(false);
    const allowed = hostAllower("10.1.2.3");
    expect(allowed("10.1.2.3:8999")).toBe(true);
    expect(allowed("10.9.9.9:8999")).toBe(false);
  });
});
