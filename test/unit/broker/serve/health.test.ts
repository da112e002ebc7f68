import { describe, expect, it } from "vitest";
import { createApp, createOpsApp } from "../../../../broker/app.ts";
import { MetricsRegistry } from "../../../../broker/metrics.ts";
import { generateSecret } from "../../../../broker/serve/secret.ts";
import { FakeSource } from "../../../support/fakes/credential-source.ts";
import { allOn } from "../../../support/fixtures/serve-options.ts";

const secrets = { awsContainerToken: generateSecret(), appServiceHeader: generateSecret() };

describe("operational endpoints", () => {
  it("/healthz answers while the process runs, whatever the credentials", async () => {
    const source = new FakeSource();
    source.ready = false;
    const res = await createApp({ source, options: allOn(), secrets }).request("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("/readyz is 503 until every target holds credentials and every token file is written", async () => {
    const source = new FakeSource();
    let fileReady = false;
    const app = createApp({ source, options: allOn(), secrets, checks: [{ name: "aws-web-identity-token", ready: () => fileReady }] });
    source.ready = false;
    expect((await app.request("/readyz")).status).toBe(503);
    source.ready = true;
    const waiting = await app.request("/readyz");
    expect(waiting.status).toBe(503);
    expect(await waiting.json()).toMatchObject({ status: "not ready", files: [{ name: "aws-web-identity-token", ready: false }] });
    fileReady = true;
    const ready = await app.request("/readyz");
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { targets: unknown[] };
    expect(body.targets).toContainEqual({ name: "s3-reader", cloud: "aws", ready: true });
    expect(JSON.stringify(body)).not.toMatch(/error/i);
  });

  it("/metrics renders the registry, counting requests by protocol and status", async () => {
    const metrics = new MetricsRegistry();
    const app = createApp({ source: new FakeSource(), options: allOn(), secrets, metrics });
    await app.request("/v1/aws/credentials/s3-reader", { headers: { authorization: secrets.awsContainerToken } });
    await app.request("/v1/aws/credentials/s3-reader");
    await app.request("/v1/aws/credentials/s3-reader");
    const res = await app.request("/metrics");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain('cloud_broker_http_requests_total{protocol="aws-container",status="200"} 1');
    expect(text).toContain('cloud_broker_http_requests_total{protocol="aws-container",status="401"} 2');
  });

  it("the ops app serves health and metrics but never credentials", async () => {
    const metrics = new MetricsRegistry();
    const ops = createOpsApp({ source: new FakeSource(), options: allOn(), secrets, metrics });
    expect((await ops.request("/healthz")).status).toBe(200);
    expect((await ops.request("/readyz")).status).toBe(200);
    expect((await ops.request("/metrics")).status).toBe(200);
    expect((await ops.request("/v1/aws/credentials/s3-reader", { headers: { authorization: secrets.awsContainerToken } })).status).toBe(
      404,
    );
    expect(
      (
        await ops.request("/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://storage.azure.com", {
          headers: { metadata: "true" },
        })
      ).status,
    ).toBe(404);
  });
});
