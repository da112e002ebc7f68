import { describe, expect, it } from "vitest";
import { isLoopbackHost } from "../../../../broker/serve/loopback.ts";

describe("isLoopbackHost: the one loopback rule (listen address, IMDS Host header)", () => {
  it.each([
    ["127.0.0.1", true],
    ["127.1.2.3", true],
    ["127.255.255.255", true],
    ["localhost", true],
    ["LocalHost", true],
    ["::1", true],
    ["[::1]", true],
    ["0:0:0:0:0:0:0:1", true],
    ["[0:0:0:0:0:0:0:1]", true],
    ["::0:1", true],
    ["0.0.0.0", false],
    ["10.0.0.1", false],
    ["128.0.0.1", false],
    ["127.0.0.256", false],
    ["127.0.0.300", false],
    ["127.1", false],
    ["127.0.0.01", false],
    ["0127.0.0.1", false],
    ["127.0.0.1.evil.com", false],
    ["localhost.evil.com", false],
    [" 127.0.0.1", false],
    ["[127.0.0.1]", false],
    ["::", false],
    ["::ffff:127.0.0.1", false],
    ["::1%lo", false],
    ["[::1", false],
    ["169.254.169.254", false],
    ["", false],
  ])("%j → %s", (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
