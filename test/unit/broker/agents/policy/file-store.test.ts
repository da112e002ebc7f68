import { mkdtempSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { createLogger } from "../../../../../broker/log.ts";
import type { AgentsError } from "../../../../../broker/errors.ts";
import { openFilePolicyStore, type FilePolicyStore } from "../../../../../broker/agents/policy/file-store.ts";
import { ISSUER, trustDomainInput } from "../../../../support/fixtures/agents.ts";

let dir: string;
let file: string;
let lines: string[];
let store: FilePolicyStore | undefined;

const log = () => createLogger({ write: (line) => lines.push(line) });
const write = (content: unknown) => {
  // Write-then-rename, like editors and Kubernetes do.
  writeFileSync(`${file}.tmp`, typeof content === "string" ? content : stringify(content));
  renameSync(`${file}.tmp`, file);
};
const withAgents = (agents: unknown[]) => ({ ...trustDomainInput(), agents });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kcb-agents-policy-"));
  file = join(dir, "trust-domain.yaml");
  lines = [];
});
afterEach(() => {
  store?.close();
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe("file policy store", () => {
  it("loads and compiles the realm-config file", () => {
    write(trustDomainInput());
    store = openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), watch: false });
    expect(store.current()?.agents.map((a) => a.name)).toEqual(["copilot", "auditor"]);
    expect(store.current()?.revision).toMatch(/^[0-9a-f]{16}$/);
  });

  it("refuses to start on a bad file, listing every problem", () => {
    write(withAgents([{ name: "x", match: {}, actFor: ["nobody"], targets: [{ aws: { role: "arn:aws:iam::111122223333:role/none" } }] }]));
    const error = (() => {
      try {
        openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), watch: false });
      } catch (e) {
        return e as AgentsError;
      }
      return undefined;
    })();
    expect(error?.code).toBe("POLICY_UNAVAILABLE");
    expect(error?.message).toContain("agents[0].match");
    expect(error?.message).toContain("agents[0].actFor[0]");
  });

  it("refuses a file for another issuer", () => {
    write({ ...trustDomainInput(), issuer: "https://other.example/realms/td" });
    expect(() => openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), watch: false })).toThrow(
      /not the broker's trusted issuer/,
    );
  });

  it("keeps the previous policy when the new file is bad, and logs why", () => {
    write(trustDomainInput());
    store = openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), watch: false });
    const before = store.current();
    write("agents: [ this is not yaml");
    expect(store.reload()).toBe(false);
    expect(store.current()).toBe(before);
    const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string; problems?: string[] }).find((l) => l.level === "error");
    expect(logged?.msg).toContain("keeping the previous one");
    expect(logged?.problems?.length).toBeGreaterThan(0);
  });

  it("switches to a good new file", () => {
    write(trustDomainInput());
    store = openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), watch: false });
    write(withAgents([]));
    expect(store.reload()).toBe(true);
    expect(store.current()?.agents).toEqual([]);
    expect(store.reload()).toBe(false); // unchanged content: nothing to do
  });

  it("reloads by itself when the file changes (fs.watch, debounced)", async () => {
    write(trustDomainInput());
    store = openFilePolicyStore({ file, issuer: ISSUER, env: {}, log: log(), debounceMs: 20 });
    const first = store.current()?.revision;
    write(withAgents([]));
    await vi.waitFor(() => expect(store?.current()?.revision).not.toBe(first), { timeout: 5_000, interval: 20 });
    expect(store.current()?.agents).toEqual([]);
  });
});
