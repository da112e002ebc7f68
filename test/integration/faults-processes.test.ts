/**
 * Processes killed in the middle of their work, with SIGKILL (no handler runs):
 * - the broker (the production bundle, as the image runs it) while it writes the workload's files
 *   at start, and the broker's atomic writer in a loop: the files SDKs read are always either the
 *   old or the new complete content, never half of one; the App Service secret survives restarts;
 * - realm-sync during an apply (creating, then pruning): the lock expires as documented
 *   (admin-scripts/keycloak/README.md), the next apply converges, and the plan shows zero changes.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from "jose";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LOCK_CLIENT_ID } from "../../admin-scripts/desired/names.ts";
import { LOCK_EXPIRES_ATTRIBUTE } from "../../admin-scripts/keycloak/lock.ts";
import { recordSecret } from "../support/log-scan.ts";
import { freePort } from "../../deploy/local/net.ts";
import { bundle, spawnNode, waitFor, waitReady } from "../support/faults/processes.ts";
import { startBrokerWorld, type BrokerWorld } from "../support/faults/world.ts";

const domain = inject("trustDomain");
const CLUSTERS = domain.clusters.map((c) => c.name);

let world: BrokerWorld;
let jwks: ReturnType<typeof createLocalJWKSet>;

beforeAll(async () => {
  world = await startBrokerWorld({ domain, prefix: "faults-proc" });
  jwks = createLocalJWKSet((await (await fetch(`${world.fx.issuer}/protocol/openid-connect/certs`)).json()) as JSONWebKeySet);
});

afterAll(async () => {
  await world?.close();
});

const read = (path: string) => (existsSync(path) ? readFileSync(path, "utf8") : undefined);
const tempFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

async function completeJwt(content: string | undefined, audience: string): Promise<boolean> {
  if (content === undefined) return false;
  try {
    await jwtVerify(content, jwks, { issuer: world.fx.issuer, audience });
    return true;
  } catch {
    return false;
  }
}

describe("the broker killed while it writes the workload's files", () => {
  it("leaves every file either old or new and complete, across many kills at random moments", async () => {
    const cli = await bundle("broker/main.ts", world.dir, "cloud-broker.mjs");
    const port = await freePort();
    const stateDir = join(world.dir, "state");
    const config = world.writeConfig(
      "broker.yaml",
      world.configDoc({
        serve: { port, stateDir, aws: { webIdentity: true, credentialProcess: true }, azure: { federatedTokenFile: true } },
      }),
    );
    const files = {
      web: join(stateDir, "aws-web-identity-token"),
      federated: join(stateDir, "azure-federated-token"),
      container: join(stateDir, "aws-container-authorization-token"),
      header: join(stateDir, "azure-identity-header"),
      awsConfig: join(stateDir, "aws-config"),
    };
    const snapshot = () =>
      Object.fromEntries(Object.entries(files).map(([k, p]) => [k, read(p)])) as Record<keyof typeof files, string | undefined>;

    // A first full start: how long until ready, and the files every later start must keep complete.
    const started = Date.now();
    const first = spawnNode([cli, "serve", "--config", config]);
    await waitReady(`http://127.0.0.1:${port}`, first);
    const readyMs = Date.now() - started;
    first.kill();
    await first.exited;
    let previous = snapshot();
    const header = previous.header!;
    recordSecret("broker-identity-header", header);

    const KILLS = 12;
    let midPhase = 0;
    let tokensRewritten = 0;
    for (let i = 0; i < KILLS; i++) {
      const child = spawnNode([cli, "serve", "--config", config]);
      if (i % 2 === 0) {
        await sleep(Math.random() * readyMs * 1.2); // anywhere in the start-up
      } else {
        // Right after one of the writes of the start-up sequence has landed.
        const trigger = [files.container, files.web, files.federated][i % 3]!;
        const before = read(trigger);
        await waitFor("a write", () => (child.child.exitCode !== null || read(trigger) !== before ? true : undefined), 30_000, 2).catch(
          () => undefined,
        );
        await sleep(Math.random() * 15);
      }
      child.kill("SIGKILL");
      await child.exited;

      const now = snapshot();
      if (now.container) recordSecret("broker-container-token", now.container);
      for (const [name, aud] of [
        ["web", "sts.amazonaws.com"],
        ["federated", "api://AzureADTokenExchange"],
      ] as const) {
        const content = now[name];
        expect(content === previous[name] || (await completeJwt(content, aud)), `${name} after kill ${i}`).toBe(true);
        expect(await completeJwt(content, aud)).toBe(true);
      }
      expect(now.container).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(now.header).toBe(header); // kept: the workload holds it in IDENTITY_HEADER
      expect(now.awsConfig).toBe(previous.awsConfig);
      const changed = (Object.keys(files) as Array<keyof typeof files>).filter((k) => now[k] !== previous[k]);
      if (changed.length > 0 && !(changed.includes("web") && changed.includes("federated"))) midPhase += 1;
      if (changed.includes("web") || changed.includes("federated")) tokensRewritten += 1;
      previous = now;
    }
    const leftovers = tempFiles(stateDir);
    console.warn(
      `broker kills: ${KILLS}, ${midPhase} inside the write sequence, ${tokensRewritten} after a token file was rewritten; ${leftovers.length} temp file(s) left behind`,
    );
    expect(midPhase + tokensRewritten).toBeGreaterThan(0);
    for (const temp of leftovers) expect(statSync(join(stateDir, temp)).mode & 0o077).toBe(0); // a leftover is never readable by others

    // And the next start is clean: ready, the same header secret.
    const last = spawnNode([cli, "serve", "--config", config]);
    await waitReady(`http://127.0.0.1:${port}`, last);
    expect(read(files.header)).toBe(header);
    last.kill("SIGTERM");
    expect((await last.exited).code).toBe(0);
  });

  it("the broker's atomic writer, killed mid-write in a loop: the file is always one complete token", async () => {
    const writer = await bundle("test/support/faults/atomic-writer.ts", world.dir, "atomic-writer.mjs");
    const tokens = await Promise.all(["kcb-aws", "kcb-azure", "kcb-aws", "kcb-azure"].map((scope) => world.clientToken("orders", scope)));
    const contents = join(world.dir, "tokens.txt");
    writeFileSync(contents, `${tokens.join("\n")}\n`, { mode: 0o600 });
    const dir = join(world.dir, "loop");
    mkdirSync(dir, { mode: 0o700 });
    const target = join(dir, "token");
    const KILLS = 20;
    for (let i = 0; i < KILLS; i++) {
      const child = spawnNode([writer, target, contents]);
      await waitFor("the writer", () => (child.stdout().includes("ready") || child.child.exitCode !== null ? true : undefined), 30_000, 2);
      await sleep(5 + Math.random() * 40);
      child.kill("SIGKILL");
      expect(await child.exited, child.stderr()).toEqual({ code: null, signal: "SIGKILL" });
      expect(tokens).toContain(readFileSync(target, "utf8"));
    }
    const leftovers = tempFiles(dir);
    console.warn(`atomic writer kills: ${KILLS}; ${leftovers.length} temp file(s) left behind`);
    for (const temp of leftovers) expect(tokens.some((t) => t.startsWith(readFileSync(join(dir, temp), "utf8")))).toBe(true);
  }, 120_000);
});

describe("realm-sync killed during an apply", () => {
  const LEASE_SECONDS = 5;
  const batch = (n: number) =>
    Array.from({ length: n }, (_, i) => ({
      name: `batch-${i}`,
      subject: `workload:batch-${i}`,
      authentication: { privateKeyJwt: { jwksUrl: `https://jobs.example/${i}/jwks` } },
      aws: { roles: [{ arn: `arn:aws:iam::111122223333:role/batch` }] },
    }));

  async function batchClients(cluster: string, admin?: Awaited<ReturnType<BrokerWorld["fx"]["admin"]>>): Promise<number> {
    return (await (admin ?? (await world.fx.admin(cluster))).clients.find({ max: 1000 })).filter((c) => c.clientId?.startsWith("batch-"))
      .length;
  }

  async function lockExpiry(cluster: string): Promise<number | undefined> {
    const [lock] = await (await world.fx.admin(cluster)).clients.find({ clientId: LOCK_CLIENT_ID });
    const expires = lock?.attributes?.[LOCK_EXPIRES_ATTRIBUTE] as string | string[] | undefined;
    return expires === undefined ? undefined : Date.parse(Array.isArray(expires) ? expires[0]! : expires);
  }

  /** `realm-sync apply` as a user runs it (one node process, so the kill hits the apply itself), killed once `killWhen` holds. */
  async function killedApply(killWhen: (count: () => Promise<number>) => Promise<boolean>): Promise<void> {
    const admin = await world.fx.admin("eu");
    const child = spawnNode(["--import", "tsx", "admin-scripts/main.ts", "apply", world.fx.configFile], {
      ...world.fx.env,
      KCB_REALM_SYNC_LOCK_LEASE_SECONDS: String(LEASE_SECONDS),
      KCB_REALM_SYNC_CONCURRENCY: "1",
    });
    await waitFor(
      "the apply's writes",
      async () => (child.child.exitCode !== null || (await killWhen(() => batchClients("eu", admin))) ? true : undefined),
      120_000,
      50,
    );
    child.kill("SIGKILL");
    const exit = await child.exited;
    expect(exit.signal, `the apply finished before it could be killed: ${child.stderr()}`).toBe("SIGKILL");
  }

  /**
   * After a kill: refused while the lease runs (documented), converged after it, zero changes, no lock left.
   * A cluster whose writes all finished before the kill released its lock; the killed one keeps its own.
   */
  async function recover(): Promise<void> {
    const expiries = (await Promise.all(CLUSTERS.map(lockExpiry))).filter((e): e is number => e !== undefined);
    expect(expiries.length, "the killed apply left no lock on any cluster").toBeGreaterThan(0);
    for (const e of expiries) expect(e - Date.now()).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + 1_000);
    const refused = await world.fx.run("apply");
    if (Date.now() < Math.min(...expiries)) {
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(/realm \S+ is locked by another apply \(.+\) until /);
    }
    await sleep(Math.max(0, Math.max(...expiries) - Date.now()) + 200);
    const applied = await world.fx.run("apply");
    expect(applied.exitCode, applied.stderr).toBe(0);
    const planned = await world.fx.run("plan");
    expect(planned.exitCode).toBe(0);
    expect(planned.stdout.match(/: in sync$/gm)).toHaveLength(CLUSTERS.length);
    for (const c of CLUSTERS) expect(await lockExpiry(c)).toBeUndefined();
  }

  it("creating 24 workloads: killed after a few writes; the rerun converges", async () => {
    const N = 24;
    world.fx.writeConfig((doc) => (doc.workloads = [...(doc.workloads as unknown[]), ...batch(N)]));
    const killAfter = 2 + Math.floor(Math.random() * 6);
    await killedApply(async (count) => (await count()) >= killAfter);
    const partial = await Promise.all(CLUSTERS.map((c) => batchClients(c)));
    expect(Math.min(...partial)).toBeLessThan(N);
    await recover();
    for (const c of CLUSTERS) expect(await batchClients(c)).toBe(N);
  });

  it("pruning them: killed after a few deletes; the rerun converges", async () => {
    const before = await batchClients("eu");
    world.fx.writeConfig((doc) => (doc.workloads = (doc.workloads as Array<{ name: string }>).filter((w) => !w.name.startsWith("batch-"))));
    const killAfter = 2 + Math.floor(Math.random() * 6);
    await killedApply(async (count) => (await count()) <= before - killAfter);
    expect(Math.max(...(await Promise.all(CLUSTERS.map((c) => batchClients(c)))))).toBeGreaterThan(0);
    await recover();
    for (const c of CLUSTERS) expect(await batchClients(c)).toBe(0);
    const checked = await world.fx.run("check");
    expect(checked.exitCode, checked.stdout).toBe(0);
  });
});
