/**
 * The broker's production build, end to end without a Docker engine: the SDKs still work once
 * bundled, the Dockerfile's own steps build an image directory, and what is in it starts.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bundleOptions } from "../../../deploy/build/bundle-options.ts";
import { runImageSteps, type ImageConfig } from "../../../deploy/build/image-steps.ts";
import { repoRoot } from "../../../deploy/local/paths.ts";

const work = mkdtempSync(join(tmpdir(), "kcb-deploy-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A local stand-in answering one STS AssumeRoleWithWebIdentity and one App Service MSI request. */
async function cannedCloud(status = 200): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      res.statusCode = status;
      if (req.url?.startsWith("/msi")) {
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            access_token: "azure-access-token",
            expires_on: String(Math.floor(Date.now() / 1000) + 3600),
            resource: "https://storage.azure.com",
            token_type: "Bearer",
          }),
        );
        return;
      }
      res.setHeader("content-type", "text/xml");
      res.end(
        `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult><Credentials>` +
          `<AccessKeyId>ASIAPROBE</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>session</SessionToken><Expiration>2030-01-01T00:00:00Z</Expiration>` +
          `</Credentials></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

function node(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, args, { encoding: "utf8", env: { ...process.env, ...env }, timeout: 30_000 });
}

function nodeAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

describe("bundled SDKs", () => {
  it("the AWS SDK and @azure/identity work from one bundled ES module run by plain node", async () => {
    const outfile = join(work, "sdk-probe.mjs");
    await build({
      ...bundleOptions(join(import.meta.dirname, "..", "..", "support", "deploy", "sdk-probe.ts"), outfile),
      logLevel: "silent",
    });
    const cloud = await cannedCloud();
    try {
      // Asynchronous, so this process keeps answering while the probe runs.
      const run = await nodeAsync([outfile, `${cloud.url}/`], { IDENTITY_ENDPOINT: `${cloud.url}/msi`, IDENTITY_HEADER: "header" });
      expect(run.status, run.stderr).toBe(0);
      const out = JSON.parse(run.stdout) as { aws: { accessKeyId: string; expiration: string }; azure: { token: string } };
      expect(out.aws).toEqual({ accessKeyId: "ASIAPROBE", expiration: "2030-01-01T00:00:00.000Z" });
      expect(out.azure.token).toBe("azure-access-token");
    } finally {
      cloud.server.close();
    }
  });
});

describe("healthcheck.mjs", () => {
  const script = join(repoRoot, "deploy", "docker", "healthcheck.mjs");
  it.each([
    [200, "/healthz", 0],
    [503, "/readyz", 1],
  ])("answer %i on %s → exit %i", async (status, path, code) => {
    const cloud = await cannedCloud(status);
    try {
      const run = await nodeAsync([script, path], { CLOUD_BROKER_PORT: cloud.url.split(":").at(-1) ?? "" });
      expect(run.status).toBe(code);
    } finally {
      cloud.server.close();
    }
  });

  it("exits 1 when nothing listens", () => {
    expect(node([script], { CLOUD_BROKER_PORT: "1" }).status).toBe(1);
  });
});

describe("the image, built by the Dockerfile's own steps", () => {
  let image: ImageConfig;
  beforeAll(() => {
    image = runImageSteps({
      context: repoRoot,
      dockerfile: "deploy/docker/Dockerfile",
      out: join(work, "image"),
      log: (l) => console.error(`[image-steps] ${l}`),
    });
  }, 600_000);

  /** The image's entrypoint on this machine: the runtime's node is ours, /app is the image directory. */
  function start(args: string[], env: Record<string, string> = {}) {
    const [, ...nodeArgs] = image.entrypoint;
    return node([...nodeArgs.map((a) => (a.startsWith("/app/") ? join(image.rootfs, a) : a)), ...args], { ...image.env, ...env });
  }

  it("holds exactly the bundle, its map and licences, and the health check, read-only", () => {
    const files = readdirSync(join(image.rootfs, "app")).sort();
    expect(files).toEqual(["cloud-broker.mjs", "cloud-broker.mjs.LEGAL.txt", "cloud-broker.mjs.map", "healthcheck.mjs"]);
    for (const f of files) expect(statSync(join(image.rootfs, "app", f)).mode & 0o777).toBe(0o444);
    expect(existsSync(join(image.rootfs, "app", "node_modules"))).toBe(false);
    const bytes = statSync(join(image.rootfs, "app", "cloud-broker.mjs")).size;
    console.error(`[image-steps] cloud-broker.mjs: ${(bytes / 1024).toFixed(0)} KiB`);
    expect(bytes).toBeLessThan(8 * 1024 * 1024);
  });

  it("has the configuration the Dockerfile declares", () => {
    expect(image.user).toBe("65532:65532");
    expect(image.entrypoint[0]).toBe("/nodejs/bin/node");
    expect(image.healthcheck?.command).toEqual(["/nodejs/bin/node", "/app/healthcheck.mjs"]);
  });

  it("starts: cloud-broker --help", () => {
    const run = start(["--help"]);
    expect(run.status, run.stderr).toBe(0);
    for (const command of ["serve", "env", "credential-process", "check-config"]) expect(run.stdout).toContain(command);
  });

  it("starts: cloud-broker check-config accepts the Kubernetes example config", () => {
    const run = start(["check-config", "--config", join(repoRoot, "deploy", "k8s", "base", "cloud-broker.yaml")]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
  });

  type Env = Array<{ name: string; value: string }>;
  /** The environment a component (deploy/k8s/components/<mode>) adds to the app and to the sidecar, as name → value maps. */
  function componentEnv(mode: string): { app: Record<string, string>; sidecar: Record<string, string> } {
    const kustomization = parse(readFileSync(join(repoRoot, "deploy", "k8s", "components", mode, "kustomization.yaml"), "utf8")) as {
      patches: Array<{ patch: string }>;
    };
    const patch = parse(kustomization.patches[0]?.patch ?? "") as {
      spec: { template: { spec: { containers: Array<{ env: Env }>; initContainers?: Array<{ env: Env }> } } };
    };
    const map = (env?: Env) => Object.fromEntries(env?.map((e) => [e.name, e.value]) ?? []);
    return { app: map(patch.spec.template.spec.containers[0]?.env), sidecar: map(patch.spec.template.spec.initContainers?.[0]?.env) };
  }

  it.each(["aws-container", "aws-web-identity", "azure-app-service", "azure-imds", "azure-workload-identity"])(
    "the %s component gives the app exactly what `cloud-broker env` prints for the example config",
    (mode) => {
      // The shell format: it names file-held secrets instead of reading them.
      // The base config keeps every mode off; the component turns its own on in the sidecar.
      const run = start(
        ["env", "--mode", mode, "--format", "env", "--config", join(repoRoot, "deploy", "k8s", "base", "cloud-broker.yaml")],
        componentEnv(mode).sidecar,
      );
      expect(run.status, run.stderr).toBe(0);
      const printed = [...run.stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map(
        ([, name, value]) => [name ?? "", (value ?? "").replace(/^'(.*)'$/, "$1")] as const,
      );
      // IDENTITY_HEADER is read by the app's command from the broker's file; the region is in the base.
      const expected = Object.fromEntries(printed.filter(([name, value]) => !value.startsWith('"$(cat') && !name.endsWith("REGION")));
      if (mode === "azure-app-service") expect(run.stdout).toContain("/var/run/cloud-broker/azure-identity-header");
      expect(componentEnv(mode).app).toEqual(expected);
    },
  );
});
