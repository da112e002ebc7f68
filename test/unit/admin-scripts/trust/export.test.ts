import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { run } from "../../../../admin-scripts/commands/export-trust.ts";
import { AWS_AUDIENCE, AZURE_AUDIENCE } from "../../../../realm-config/model/conventions.ts";
import { loadTrustDomain } from "../../../../realm-config/model/load.ts";
import type { TrustDomain } from "../../../../realm-config/model/schema.ts";
import { loadTrustExport } from "../../../../admin-scripts/trust/artifacts.ts";
import { buildTrustExport, renderTrustFiles } from "../../../../admin-scripts/trust/export.ts";

const repo = fileURLToPath(new URL("../../../../", import.meta.url));
const EXAMPLE = "realm-config/example/trust-domain.yaml";
/** Regenerate after an intended change: npm run realm-sync -- export-trust realm-config/example/trust-domain.yaml --out test/unit/admin-scripts/trust/golden/export-trust */
const GOLDEN = join(repo, "test/unit/admin-scripts/trust/golden/export-trust");
const tmp = mkdtempSync(join(tmpdir(), "kcb-export-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const example = (): TrustDomain => loadTrustDomain(EXAMPLE, { env: {}, cwd: repo, requireAdminUrls: false }).config;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .sort();
}

function io(): {
  out: string[];
  err: string[];
  opts: { cwd: string; env: Record<string, string>; stdout: { write(s: string): void }; stderr: { write(s: string): void } };
} {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, opts: { cwd: repo, env: {}, stdout: { write: (s) => out.push(s) }, stderr: { write: (s) => err.push(s) } } };
}

describe("export-trust on the example trust domain", () => {
  it("produces exactly the golden files, byte for byte", () => {
    const files = renderTrustFiles(example());
    expect(files.map((f) => f.path)).toEqual(filesUnder(GOLDEN));
    for (const f of files) expect(f.text, f.path).toBe(readFileSync(join(GOLDEN, f.path), "utf8"));
  });

  it("does not depend on the order of workloads, roles, identities or agents", () => {
    const config = example();
    const shuffled: TrustDomain = {
      ...config,
      workloads: [...config.workloads]
        .reverse()
        .map((w) => ({ ...w, ...(w.aws ? { aws: { ...w.aws, roles: [...w.aws.roles].reverse() } } : {}) })),
      agents: [...config.agents].reverse(),
    };
    expect(renderTrustFiles(shuffled)).toEqual(renderTrustFiles(config));
  });

  it("trusts exactly the configured subjects, through the issuer's provider, for AWS's audience", () => {
    const config = example();
    const trust = buildTrustExport(config);
    const host = config.issuer.replace("https://", "");
    expect(trust.aws.oidcProviders).toEqual([
      { Arn: `arn:aws:iam::111122223333:oidc-provider/${host}`, Url: config.issuer, ClientIDList: [AWS_AUDIENCE], ThumbprintList: [] },
    ]);
    for (const role of trust.aws.roles) {
      const subjects = config.workloads
        .filter((w) => w.aws?.roles.some((r) => r.arn === role.Arn))
        .map((w) => w.subject)
        .sort();
      // One statement for the workloads trusted from anywhere, one per namespace-locked workload
      // (aws.lockToNamespace), then one per delegated workload: together exactly the configured subjects.
      // A plain workload session sets no source identity; only an agent's delegated statement may.
      const trusted: string[] = [];
      const chains: unknown[] = [];
      for (const statement of role.AssumeRolePolicyDocument.Statement) {
        expect(statement.Principal?.Federated).toBe(trust.aws.oidcProviders[0]?.Arn);
        expect(statement.Condition?.StringEquals?.[`${host}:aud`]).toBe(AWS_AUDIENCE);
        const sourceIdentity = statement.Condition?.StringEquals?.["sts:SourceIdentity"];
        if (sourceIdentity !== undefined) {
          expect(statement.Action).toEqual(["sts:AssumeRoleWithWebIdentity", "sts:SetSourceIdentity", "sts:TagSession"]);
          chains.push(sourceIdentity);
          continue;
        }
        expect(statement.Action).toEqual(["sts:AssumeRoleWithWebIdentity", "sts:TagSession"]);
        expect(statement.Condition?.Null).toEqual({ "sts:SourceIdentity": "true" });
        const sub = statement.Condition?.StringEquals?.[`${host}:sub`];
        trusted.push(...(Array.isArray(sub) ? sub : [sub ?? ""]));
      }
      expect(trusted.sort()).toEqual(subjects);
      const agentTargeted = config.agents.some((a) => a.targets.some((t) => "aws" in t && t.aws.role === role.Arn));
      expect(chains).toEqual(agentTargeted ? ["report-assistant@reporting-batch"] : []);
    }
    // payments-api is locked to its namespace; reporting-batch is not.
    const shared = trust.aws.roles.find((r) => r.RoleName === "shared-audit-read");
    expect(shared?.AssumeRolePolicyDocument.Statement.map((s) => s.Condition?.StringEquals)).toEqual([
      { [`${host}:aud`]: AWS_AUDIENCE, [`${host}:sub`]: "workload:reporting-batch" },
      { [`${host}:aud`]: AWS_AUDIENCE, [`${host}:sub`]: "workload:payments-api", "aws:RequestTag/kubernetes-namespace": "payments" },
    ]);
  });

  it("gives every (workload, Azure identity) one federated credential with the issuer, subject and Entra's audience", () => {
    const config = example();
    const fics = buildTrustExport(config).azure.federatedCredentials;
    const expected = config.workloads.flatMap((w) => (w.azure?.identities ?? []).map((id) => `${id.clientId}|${w.subject}`)).sort();
    expect(fics.map((f) => `${f.clientId}|${f.subject}`).sort()).toEqual(expected);
    for (const f of fics) {
      expect(f.issuer).toBe(config.issuer);
      expect(f.audiences).toEqual([AZURE_AUDIENCE]);
      expect(f.name).toMatch(/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/);
    }
  });

  it("writes a directory that loadTrustExport reads back, and is idempotent", async () => {
    const out = join(tmp, "first");
    const a = io();
    expect(await run({ ...a.opts, config: EXAMPLE, out, check: false, verbose: false })).toBe("OK");
    expect(loadTrustExport(out)).toEqual(buildTrustExport(example()));
    const before = filesUnder(out).map((f) => readFileSync(join(out, f), "utf8"));
    const b = io();
    expect(await run({ ...b.opts, config: EXAMPLE, out, check: false, verbose: false })).toBe("OK");
    expect(b.out.join("")).toContain("0 written, 0 removed");
    expect(filesUnder(out).map((f) => readFileSync(join(out, f), "utf8"))).toEqual(before);
  });

  it("--check exits 0 on the golden directory and 3 when a file differs or is stale", async () => {
    const ok = io();
    expect(await run({ ...ok.opts, config: EXAMPLE, out: GOLDEN, check: true, verbose: false })).toBe("OK");

    const other = join(tmp, "other");
    const w = io();
    await run({ ...w.opts, config: EXAMPLE, out: other, check: false, verbose: false });
    writeFileSync(join(other, "aws/roles/111122223333/retired.json"), "{}\n");
    writeFileSync(join(other, "azure/federated-credentials.json"), "[]\n");
    const bad = io();
    expect(await run({ ...bad.opts, config: EXAMPLE, out: other, check: true, verbose: false })).toBe("CHANGES_PENDING");
    expect(bad.out.join("")).toMatch(/stale\s+aws\/roles\/111122223333\/retired\.json/);
    expect(bad.out.join("")).toMatch(/changed\s+azure\/federated-credentials\.json/);
  });
});
