import { readFileSync } from "node:fs";
import { join } from "node:path";
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from "@actions/workflow-parser";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const file = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "github", "workflows", "realm-sync.yml");
const content = readFileSync(file, "utf8");

interface Step {
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, unknown>;
}
interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown> & { schedule?: Array<{ cron: string }> };
  permissions: Record<string, string>;
  jobs: Record<string, Job>;
}
const workflow = parse(content) as Workflow;
const jobs = Object.entries(workflow.jobs);

/** GitHub's own parser (the one behind the Actions VS Code extension) with its workflow schema. */
async function githubErrors(text: string): Promise<string[]> {
  const parsed = parseWorkflow({ name: "realm-sync.yml", content: text }, new NoOperationTraceWriter());
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
  return [...parsed.context.errors.getErrors().map((e) => e.message), ...(template.errors ?? []).map((e) => e.Message)];
}

describe("realm-sync workflow", () => {
  it("is valid for GitHub's workflow parser and schema", async () => {
    expect(await githubErrors(content)).toEqual([]);
  });

  it("the parser catches what it should (a misspelt key, a bad permission)", async () => {
    const broken = content.replace("timeout-minutes: 10", "timeout-minute: 10").replace("pull-requests: write", "pull-requests: writ");
    const errors = await githubErrors(broken);
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it("runs on pull requests, pushes to main, a schedule and by hand", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push", "schedule", "workflow_dispatch"]);
    expect(workflow.on.schedule?.[0]?.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
  });

  it("grants nothing by default and at most what each job needs", () => {
    expect(workflow.permissions).toEqual({});
    for (const [name, job] of jobs) {
      const allowed = name === "plan" ? { contents: "read", "pull-requests": "write" } : { contents: "read" };
      expect(job.permissions, name).toEqual(allowed);
    }
  });

  it.each([
    ["validate", "pull_request", "validate"],
    ["plan", "pull_request", "plan"],
    ["apply", "push", "apply"],
    ["check", "schedule", "check"],
  ])("job %s runs on %s and calls realm-sync %s", (name, event, command) => {
    const job = workflow.jobs[name];
    expect(job?.if).toContain(event);
    expect(job?.steps.some((s) => new RegExp(`npx realm-sync ${command}\\b`).test(s.run ?? ""))).toBe(true);
  });

  it("plan follows validate, and is attached to the run and the pull request", () => {
    const plan = workflow.jobs.plan!;
    expect(plan.needs).toBe("validate");
    const runs = plan.steps.map((s) => s.run ?? "").join("\n");
    expect(runs).toContain("GITHUB_STEP_SUMMARY");
    expect(runs).toContain("gh pr comment");
    expect(plan.steps.some((s) => s.uses?.startsWith("actions/upload-artifact@"))).toBe(true);
  });

  it("treats exit 3 as a plan to review but as a failure of the drift check", () => {
    const planRun = workflow.jobs.plan!.steps.find((s) => s.run?.includes("npx realm-sync plan"))?.run ?? "";
    expect(planRun).toMatch(/-ne 3/);
    const checkRun = workflow.jobs.check!.steps.find((s) => s.run?.includes("npx realm-sync check"))?.run ?? "";
    expect(checkRun).toContain('exit "$code"');
  });

  it("applies only after an environment approval, with the write credentials", () => {
    expect(workflow.jobs.apply?.environment).toBe("keycloak-admin");
    for (const name of ["plan", "check"]) expect(workflow.jobs[name]?.environment).toBe("keycloak-read");
  });

  it("pins every action to a full commit SHA", () => {
    const uses = jobs.flatMap(([, job]) => job.steps.map((s) => s.uses).filter((u): u is string => u !== undefined));
    expect(uses.length).toBeGreaterThan(0);
    for (const u of uses) expect(u).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
  });

  it("keeps secrets out of the file and out of job-wide environments", () => {
    expect(content).not.toMatch(/-----BEGIN|client_secret\s*[:=]\s*\w|password\s*[:=]\s*\w/i);
    for (const [name, job] of jobs) {
      expect(JSON.stringify({ ...job, steps: [] }), name).not.toContain("secrets.");
      for (const step of job.steps) {
        // A secret may appear only as a step's environment variable.
        expect(JSON.stringify({ ...step, env: undefined }), name).not.toContain("secrets.");
      }
    }
  });

  it("never persists the checkout token", () => {
    for (const [name, job] of jobs) {
      const checkout = job.steps.find((s) => s.uses?.startsWith("actions/checkout@"));
      expect(checkout?.with?.["persist-credentials"], name).toBe(false);
    }
  });

  describe("who holds what (read through GitHub's own parser)", () => {
    interface ParsedJob {
      id: { value: string };
      if?: { toString(): string };
      environment?: unknown;
    }
    const converted = async () => {
      const parsed = parseWorkflow({ name: "realm-sync.yml", content }, new NoOperationTraceWriter());
      const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
      return (template.jobs as unknown as ParsedJob[]).map((job) => {
        const text = JSON.stringify(job);
        return {
          id: job.id.value,
          condition: job.if?.toString() ?? "",
          environment: JSON.stringify(job.environment ?? null),
          secrets: [...new Set([...text.matchAll(/secrets\.([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? ""))].sort(),
          permissions: workflow.jobs[job.id.value]?.permissions ?? {},
        };
      });
    };
    const onPullRequests = (condition: string) => condition.includes("'pull_request'");

    it("pull-request jobs hold only the view-only identity: no write identity, no key, no OIDC token", async () => {
      const jobs = await converted();
      const pr = jobs.filter((j) => onPullRequests(j.condition));
      expect(pr.map((j) => j.id).sort()).toEqual(["plan", "validate"]);
      for (const job of pr) {
        for (const secret of job.secrets) expect(secret, `${job.id}: ${secret}`).toMatch(/^KCB_[A-Z]+_REALM_SYNC_VIEW_SECRET$/);
        expect(job.environment === "null" || job.environment === '"keycloak-read"', `${job.id}: ${job.environment}`).toBe(true);
        expect(job.permissions["id-token"], job.id).toBeUndefined();
      }
      expect(jobs.find((j) => j.id === "validate")?.secrets).toEqual([]);
    });

    it("apply runs only on a push to the default branch, in the protected environment, with the write identity", async () => {
      const apply = (await converted()).find((j) => j.id === "apply");
      expect(onPullRequests(apply?.condition ?? "'pull_request'")).toBe(false);
      expect(apply?.condition).toContain("github.event_name == 'push'");
      expect(apply?.condition).toContain("github.event.repository.default_branch");
      expect(apply?.environment).toBe('"keycloak-admin"');
      expect(apply?.secrets.filter((s) => s.includes("APPLY"))).toEqual([
        "KCB_EU_REALM_SYNC_APPLY_SECRET",
        "KCB_US_REALM_SYNC_APPLY_SECRET",
      ]);
      // The write identity reaches only the apply step; the check after it signs in with the view-only identity.
      const steps = workflow.jobs.apply!.steps;
      for (const step of steps) {
        const holdsWrite = JSON.stringify(step.env ?? {}).includes("_APPLY_SECRET");
        expect(holdsWrite, step.run ?? step.uses).toBe(/^npx realm-sync apply\b/.test(step.run ?? ""));
      }
    });

    it("no job holds a signing key or any secret other than realm-sync's identities", async () => {
      for (const job of await converted()) {
        for (const secret of job.secrets) expect(secret, job.id).toMatch(/^KCB_[A-Z]+_REALM_SYNC_(VIEW|APPLY)_SECRET$/);
      }
      expect(content).not.toMatch(/SIGNING_KEY|PRIVATE_KEY/);
    });
  });
});
