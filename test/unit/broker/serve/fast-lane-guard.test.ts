/**
 * The node:http fast lane applies the same credential-request guard as the app: a proxied request
 * or a foreign Host is never answered from the fast lane (it goes to the app, which refuses it;
 * app.test.ts). Requests here are plain objects with Node's raw header list (names as the client
 * spelled them): no socket.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { AZURE_APP_SERVICE_PATH } from "../../../../broker/serve/azure-app-service.ts";
import { awsContainerFastLane, azureAppServiceFastLane } from "../../../../broker/serve/fast-lane.ts";
import { quietLogger } from "../../../../broker/serve/ports.ts";
import { generateSecret, secretMatcher } from "../../../../broker/serve/secret.ts";
import { FakeSource } from "../../../support/fakes/credential-source.ts";

const secret = generateSecret();

/** Node's `rawHeaders` of a request sending `headers` in this order. */
const raw = (headers: Record<string, string>): string[] => Object.entries(headers).flat();

function attempt(
  headers: Record<string, string>,
  alsoHost?: string,
): { handled: boolean; readonly status: number | undefined; source: FakeSource } {
  const source = new FakeSource();
  const lane = awsContainerFastLane({
    source,
    matchesSecret: secretMatcher(secret),
    log: quietLogger,
    retryAfterSeconds: 5,
    ...(alsoHost !== undefined && { alsoHost }),
  });
  let status: number | undefined;
  const res = { writeHead: (s: number) => void (status = s), end: () => undefined } as unknown as ServerResponse;
  const req = {
    method: "GET",
    url: "/v1/aws/credentials/s3-reader",
    rawHeaders: raw({ Authorization: secret, ...headers }),
  } as unknown as IncomingMessage;
  const handled = lane(req, res);
  return {
    handled,
    get status() {
      return status;
    },
    source,
  };
}

describe("AWS container fast lane: the credential-request guard", () => {
  it("answers a loopback request itself", async () => {
    const r = attempt({ host: "127.0.0.1:8999" });
    expect(r.handled).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(r.status).toBe(200);
  });

  it.each([
    ["Forwarded", { host: "127.0.0.1:8999", Forwarded: "for=10.0.0.7" }],
    ["Via", { host: "127.0.0.1:8999", via: "1.1 proxy" }],
    ["X-Forwarded-For", { Host: "127.0.0.1:8999", "X-Forwarded-For": "10.0.0.7" }],
    ["X-Real-IP", { host: "127.0.0.1:8999", "x-real-ip": "10.0.0.7" }],
    ["a foreign Host", { host: "attacker.example:8999" }],
    ["a pod-address Host", { host: "10.1.2.3:8999" }],
    ["no Host", {}],
  ])("leaves a request with %s to the app (which refuses it), fetching nothing", (_what, headers) => {
    const r = attempt(headers);
    expect(r.handled).toBe(false);
    expect(r.status).toBeUndefined();
    expect(r.source.awsCalls).toEqual([]);
  });

  it("accepts the listener's own host only when a non-loopback bind was allowed", () => {
    expect(attempt({ host: "10.1.2.3:8999" }, "10.1.2.3").handled).toBe(true);
  });
});

describe("App Service fast lane: the credential-request guard", () => {
  const appSecret = generateSecret();
  function lane(headers: Record<string, string>): boolean {
    const source = new FakeSource();
    const fast = azureAppServiceFastLane({
      source: { azureTargets: source.azureTargets, azureIfCached: (t, s) => source.azureNow(t, s) },
      matchesSecret: secretMatcher(appSecret),
    });
    const res = { writeHead: () => undefined, end: () => undefined } as unknown as ServerResponse;
    const req = {
      method: "GET",
      url: `${AZURE_APP_SERVICE_PATH}?api-version=2019-08-01&resource=https://storage.azure.com`,
      rawHeaders: raw({ "X-IDENTITY-HEADER": appSecret, ...headers }),
    } as unknown as IncomingMessage;
    return fast(req, res);
  }

  it("answers a loopback request itself, and leaves a proxied or foreign-Host request to the app", () => {
    expect(lane({ host: "127.0.0.1:8999" })).toBe(true);
    const refused: Array<Record<string, string>> = [
      { host: "127.0.0.1:8999", "x-forwarded-for": "10.0.0.7" },
      { host: "127.0.0.1:8999", forwarded: "for=x" },
      { host: "attacker.example" },
      {},
    ];
    for (const headers of refused) expect(lane(headers)).toBe(false);
  });
});
