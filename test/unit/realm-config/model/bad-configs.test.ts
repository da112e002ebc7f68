import { describe, expect, it } from "vitest";
import { TrustDomainError, type ConfigIssue } from "../../../../realm-config/model/errors.ts";
import { parseTrustDomain } from "../../../../realm-config/model/load.ts";
import { BASE, edit, lineOf } from "../../../support/fixtures/trust-domain-yaml.ts";

const FILE = "realm-config/t.yaml";
const ENV = { KC_PASSWORD: "unused" };

function issuesOf(text: string, env: Record<string, string> = ENV): ConfigIssue[] {
  try {
    parseTrustDomain(text, FILE, { env });
  } catch (err) {
    if (err instanceof TrustDomainError && err.code === "CONFIG_INVALID") return err.issues.filter((i) => i.severity !== "warning");
    throw err;
  }
  throw new Error("expected CONFIG_INVALID");
}

interface Case {
  name: string;
  text: string;
  path: string;
  /** A fragment of the expected message. */
  message: string;
  /** Text on the line the issue must point at. */
  at: string;
  env?: Record<string, string>;
}

const workloadWithIdentity = (i: number): string => `  - name: extra-${i}
    subject: workload:extra-${i}
    authentication:
      clientSecret: { env: S }
    azure:
      identities:
        - name: shared-${i}
          tenantId: 11111111-2222-3333-4444-555555555555
          clientId: aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee
          scopes: [https://storage.azure.com/.default]
`;
const manyTags = Array.from({ length: 50 }, (_, i) => `        k${i}: v\n`).join("");

const cases: Case[] = [
  { name: "wrong version", text: edit(BASE, "version: 1", "version: 2"), path: "version", message: "must be 1", at: "version: 2" },
  { name: "missing realm", text: edit(BASE, "realm: t\n", ""), path: "realm", message: "required", at: "version: 1" },
  {
    name: "unknown field",
    text: edit(BASE, "    subject: workload:app-c\n", "    subject: workload:app-c\n    colour: blue\n"),
    path: "workloads[2].colour",
    message: 'unknown field "colour"',
    at: "colour: blue",
  },
  {
    name: "bad role ARN",
    text: edit(BASE, "role/app-a\n", "rol/app-a\n"),
    path: "workloads[0].aws.roles[0].arn",
    message: "must be an IAM role ARN",
    at: "rol/app-a",
  },
  {
    name: "bad tenant GUID",
    text: edit(
      BASE,
      "          tenantId: 11111111-2222-3333-4444-555555555555\n          clientId: aaaa",
      "          tenantId: not-a-guid\n          clientId: aaaa",
    ),
    path: "workloads[0].azure.identities[0].tenantId",
    message: "must be a GUID",
    at: "not-a-guid",
  },
  {
    name: "duplicate workload name",
    text: edit(BASE, "  - name: app-c", "  - name: app-a"),
    path: "workloads[2].name",
    message: 'duplicate workload name "app-a" (first at workloads[0].name)',
    at: "  - name: app-a\n    subject: workload:app-c",
  },
  {
    name: "duplicate subject",
    text: edit(BASE, "subject: workload:app-c", "subject: workload:app-a"),
    path: "workloads[2].subject",
    message: 'duplicate subject "workload:app-a"',
    at: "subject: workload:app-a\n    authentication:\n      clientSecret",
  },
  {
    name: "duplicate cluster name",
    text: edit(BASE, "  - name: us", "  - name: eu"),
    path: "clusters[1].name",
    message: 'duplicate cluster name "eu"',
    at: "  - name: eu\n    adminUrl: https://kc-us",
  },
  {
    name: "two active keys",
    text: edit(BASE, "status: passive", "status: active"),
    path: "signingKeys[1].status",
    message: "exactly one key must be active",
    at: "    status: active\nworkloads:",
  },
  {
    name: "no active key",
    text: edit(BASE, "status: active", "status: passive"),
    path: "signingKeys",
    message: "none is",
    at: "signingKeys:",
  },
  {
    name: "issuer not https",
    text: edit(BASE, "issuer: https://id.example.com/realms/t", "issuer: http://id.example.com/realms/t"),
    path: "issuer",
    message: "https://",
    at: "issuer: http://",
  },
  {
    name: "issuer of another realm",
    text: edit(BASE, "issuer: https://id.example.com/realms/t", "issuer: https://id.example.com/realms/other"),
    path: "issuer",
    message: "must end with /realms/t",
    at: "realms/other",
  },
  {
    name: "issuer variable unset",
    text: edit(BASE, "issuer: https://id.example.com/realms/t", "issuer: ${KCB_ISSUER}"),
    path: "issuer",
    message: "environment variable KCB_ISSUER is not set",
    at: "${KCB_ISSUER}",
  },
  {
    name: "session too short",
    text: edit(BASE, "maxSessionDuration: 3600", "maxSessionDuration: 600"),
    path: "workloads[0].aws.roles[0].maxSessionDuration",
    message: "must be ≥ 3600",
    at: "maxSessionDuration: 600",
  },
  {
    name: "session too long",
    text: edit(BASE, "maxSessionDuration: 3600", "maxSessionDuration: 50000"),
    path: "workloads[0].aws.roles[0].maxSessionDuration",
    message: "must be ≤ 43200",
    at: "maxSessionDuration: 50000",
  },
  {
    name: "tag value over 256",
    text: edit(BASE, "team: alpha", `team: ${"x".repeat(257)}`),
    path: "workloads[0].aws.sessionTags.team",
    message: "at most 256 characters",
    at: "team: xxx",
  },
  {
    name: "tag key characters",
    text: edit(BASE, "tier: web", '"ti#er": web'),
    path: 'workloads[0].aws.sessionTags["ti#er"]',
    message: "key must be a session tag key",
    at: '"ti#er"',
  },
  {
    name: "tag key over 128",
    text: edit(BASE, "tier: web", `${"k".repeat(129)}: web`),
    path: `workloads[0].aws.sessionTags.${"k".repeat(129)}`,
    message: "key must be at most 128 characters",
    at: "kkkk",
  },
  {
    name: "more than 50 tags",
    text: edit(BASE, "        tier: web\n", manyTags),
    path: "workloads[0].aws.sessionTags",
    message: "51 session tags; AWS allows at most 50",
    at: "sessionTags:",
  },
  {
    name: "tags differing in case",
    text: edit(BASE, "tier: web", "Team: beta"),
    path: "workloads[0].aws.sessionTags.Team",
    message: '"Team" collides with "team"',
    at: "Team: beta",
  },
  {
    name: "transitive key without tag",
    text: edit(BASE, "transitiveTagKeys: [team]", "transitiveTagKeys: [owner]"),
    path: "workloads[0].aws.transitiveTagKeys[0]",
    message: '"owner" is not one of this workload\'s sessionTags',
    at: "[owner]",
  },
  {
    name: "secret ref with env and file",
    text: edit(BASE, "password: { env: KC_PASSWORD }", "password: { env: KC_PASSWORD, file: pw }"),
    path: "clusters[0].auth.password",
    message: "expected exactly one of the forms { env } | { file }",
    at: "file: pw",
  },
  {
    name: "two auth methods",
    text: edit(
      BASE,
      "      clientSecret: { env: APP_C_SECRET }",
      "      clientSecret: { env: APP_C_SECRET }\n      privateKeyJwt: { jwksUrl: https://x.example.com/jwks }",
    ),
    path: "workloads[2].authentication",
    message: "{ kubernetes } | { privateKeyJwt } | { clientSecret }",
    at: "    authentication:\n      clientSecret: { env: APP_C_SECRET }",
  },
  {
    name: "Azure scope without /.default",
    text: edit(
      BASE,
      "scopes: [https://storage.azure.com/.default]\n  - name: app-b",
      "scopes: [https://storage.azure.com/user_impersonation]\n  - name: app-b",
    ),
    path: "workloads[0].azure.identities[0].scopes[0]",
    message: "/.default",
    at: "user_impersonation",
  },
  {
    name: "Azure identity name reused",
    text: edit(BASE, "- name: vault-b", "- name: storage-a"),
    path: "workloads[1].azure.identities[0].name",
    message: 'duplicate Azure identity name "storage-a"',
    at: "- name: storage-a\n          tenantId: 11111111-2222-3333-4444-555555555555\n          clientId: bbbb",
  },
  {
    name: "21 federated credentials on one identity",
    text: edit(BASE, "agents:\n", `${Array.from({ length: 20 }, (_, i) => workloadWithIdentity(i)).join("")}agents:\n`),
    path: "workloads[22].azure.identities[0]",
    message: "21 federated identity credentials",
    at: "- name: shared-19",
  },
  {
    name: "IAM role name reused under another path",
    text: edit(BASE, "role/team/app-b\n          maxSessionDuration: 7200", "role/other/app-a\n          maxSessionDuration: 7200"),
    path: "workloads[1].aws.roles[0].arn",
    message: 'role name "app-a" is already used',
    at: "role/other/app-a",
  },
  {
    name: "agent longer than the role allows",
    text: edit(BASE, "maxDuration: 900", "maxDuration: 9000"),
    path: "agents[0].targets[0].aws.maxDuration",
    message: "exceeds the role's maxSessionDuration 7200",
    at: "maxDuration: 9000",
  },
  {
    name: "agent for an unknown workload",
    text: edit(BASE, "actFor: [app-b]", "actFor: [app-b, ghost]"),
    path: "agents[0].actFor[1]",
    message: 'no workload named "ghost"',
    at: "actFor: [app-b, ghost]",
  },
  {
    name: "agent target role of another workload",
    text: edit(BASE, "role: arn:aws:iam::111122223333:role/team/app-b", "role: arn:aws:iam::111122223333:role/app-a"),
    path: "agents[0].targets[0].aws.role",
    message: "is not a role of the workloads it acts for (app-b)",
    at: "role: arn:aws:iam::111122223333:role/app-a",
  },
  {
    name: "agent unknown identity",
    text: edit(BASE, "identity: vault-b", "identity: storage-a"),
    path: "agents[0].targets[1].azure.identity",
    message: 'no Azure identity "storage-a" among the workloads it acts for',
    at: "identity: storage-a",
  },
  {
    name: "agent scope outside the identity",
    text: edit(
      BASE,
      "          scopes: [https://vault.azure.net/.default]\n",
      "          scopes: [https://graph.microsoft.com/.default]\n",
    ),
    path: "agents[0].targets[1].azure.scopes[0]",
    message: 'is not one of identity "vault-b"\'s scopes',
    at: "graph.microsoft.com",
  },
  {
    name: "agent matching everything",
    text: edit(BASE, "      issuer: https://agents.example.com\n      subject: agent-1\n", "      {}\n"),
    path: "agents[0].match",
    message: "must name at least one of issuer, subject, clientId or claims",
    at: "match:",
  },
  {
    name: "Kubernetes issuer over http",
    text: edit(BASE, "issuer: https://k8s.example.com", "issuer: http://k8s.example.com"),
    path: "workloads[0].authentication.kubernetes.issuer",
    message: "must be an https:// URL",
    at: "http://k8s.example.com",
  },
  {
    name: "workload jwksUrl over http",
    text: edit(BASE, "jwksUrl: https://app-b.example.com/jwks.json", "jwksUrl: http://app-b.example.com/jwks.json"),
    path: "workloads[1].authentication.privateKeyJwt.jwksUrl",
    message: "must be an https:// URL",
    at: "http://app-b.example.com",
  },
  {
    name: "sidecar delegation jwksUrl over http",
    text: edit(
      BASE,
      "    subject: workload:app-c\n",
      "    subject: workload:app-c\n    agentDelegation:\n      privateKeyJwt: { jwksUrl: http://sidecar-c.example.com/jwks.json }\n",
    ),
    path: "workloads[2].agentDelegation.privateKeyJwt.jwksUrl",
    message: "must be an https:// URL",
    at: "http://sidecar-c.example.com",
  },
  { name: "YAML duplicate key", text: edit(BASE, "realm: t\n", "realm: t\nrealm: u\n"), path: "", message: "YAML", at: "realm: u" },
];

describe("bad configs: every error with its YAML path, line and message", () => {
  it("has at least 15 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(15);
  });

  it.each(cases)("$name", ({ text, path, message, at, env }) => {
    const issues = issuesOf(text, env);
    const issue = issues.find((i) => i.path === path && i.message.includes(message));
    expect(issue, `issues were:\n${issues.map((i) => `${i.line} ${i.path}: ${i.message}`).join("\n")}`).toBeDefined();
    expect(issue?.line).toBe(lineOf(text, at));
    expect(issue?.file).toBe(FILE);
    expect(issue?.column).toBeGreaterThan(0);
  });

  it("reports all errors of one file together, in file order", () => {
    let text = BASE;
    text = edit(text, "version: 1", "version: 2");
    text = edit(text, "role/app-a\n", "rol/app-a\n");
    text = edit(text, "  - name: app-c", "  - name: app-a");
    text = edit(text, "maxDuration: 900", "maxDuration: 9000");
    text = edit(text, "status: passive", "status: active");
    const issues = issuesOf(text);
    expect(issues.map((i) => i.path)).toEqual([
      "version",
      "signingKeys[1].status",
      "workloads[0].aws.roles[0].arn",
      "workloads[2].name",
      "agents[0].targets[0].aws.maxDuration",
    ]);
    expect(issues.map((i) => i.line)).toEqual([...issues.map((i) => i.line)].sort((a, b) => a - b));
  });

  it("accepts the base fixture", () => {
    expect(() => parseTrustDomain(BASE, FILE, { env: ENV })).not.toThrow();
  });
});
