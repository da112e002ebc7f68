/**
 * realm-config for per-pod identity: `kubernetesIssuers` and `aws.lockToNamespace`, every rule with
 * its YAML path and line.
 */
import { describe, expect, it } from "vitest";
import { TrustDomainError, type ConfigIssue } from "../../../../realm-config/model/errors.ts";
import { parseTrustDomain } from "../../../../realm-config/model/load.ts";
import { DEFAULT_POD_SESSION_TAGS } from "../../../../realm-config/model/schema.ts";
import { BASE, edit, lineOf } from "../../../support/fixtures/trust-domain-yaml.ts";

const FILE = "realm-config/t.yaml";
const ENV = { KC_PASSWORD: "unused" };

/** BASE with app-a's issuer declared, and its roles locked to its namespace. */
const POD_BASE = edit(
  edit(
    BASE,
    "workloads:\n",
    "kubernetesIssuers:\n  - issuer: https://k8s.example.com\n    clusterName: eu-1\n    transitiveTagKeys: [kubernetes-namespace]\nworkloads:\n",
  ),
  "      transitiveTagKeys: [team]\n",
  "      transitiveTagKeys: [team]\n      lockToNamespace: true\n",
);

function parse(text: string) {
  return parseTrustDomain(text, FILE, { env: ENV });
}

function issuesOf(text: string): ConfigIssue[] {
  try {
    parse(text);
  } catch (err) {
    if (err instanceof TrustDomainError && err.code === "CONFIG_INVALID") return err.issues.filter((i) => i.severity !== "warning");
    throw err;
  }
  throw new Error("expected CONFIG_INVALID");
}

const fiftyTags = Array.from({ length: 46 }, (_, i) => `        k${i}: v\n`).join("");

const cases: Array<{ name: string; text: string; path: string; message: string; at: string }> = [
  {
    name: "cluster name outside the tag charset",
    text: edit(POD_BASE, "clusterName: eu-1", "clusterName: eu#1"),
    path: "kubernetesIssuers[0].clusterName",
    message: "session tag value",
    at: "clusterName: eu#1",
  },
  {
    name: "empty cluster name",
    text: edit(POD_BASE, "clusterName: eu-1", 'clusterName: ""'),
    path: "kubernetesIssuers[0].clusterName",
    message: "must not be empty",
    at: 'clusterName: ""',
  },
  {
    name: "missing cluster name",
    text: edit(POD_BASE, "    clusterName: eu-1\n", ""),
    path: "kubernetesIssuers[0].clusterName",
    message: "required",
    at: "  - issuer: https://k8s.example.com",
  },
  {
    name: "issuer declared twice",
    text: edit(POD_BASE, "workloads:\n", "  - issuer: https://k8s.example.com\n    clusterName: eu-2\nworkloads:\n"),
    path: "kubernetesIssuers[1].issuer",
    message: 'duplicate Kubernetes issuer "https://k8s.example.com"',
    at: "  - issuer: https://k8s.example.com\n    clusterName: eu-2",
  },
  {
    name: "transitive key that is no pod tag",
    text: edit(POD_BASE, "transitiveTagKeys: [kubernetes-namespace]", "transitiveTagKeys: [team]"),
    path: "kubernetesIssuers[0].transitiveTagKeys[0]",
    message: '"team" is not one of this issuer\'s pod session tag keys',
    at: "transitiveTagKeys: [team]\nworkloads",
  },
  {
    name: "two pod values under one key",
    text: edit(POD_BASE, "    clusterName: eu-1\n", "    clusterName: eu-1\n    sessionTags: { namespace: ns, podName: NS }\n"),
    path: "kubernetesIssuers[0].sessionTags.podName",
    message: '"NS" is already the key of namespace',
    at: "sessionTags: { namespace: ns",
  },
  {
    name: "a pod tag key with aws:",
    text: edit(POD_BASE, "    clusterName: eu-1\n", '    clusterName: eu-1\n    sessionTags: { namespace: "aws:ns" }\n'),
    path: "kubernetesIssuers[0].sessionTags.namespace",
    message: "reserved for AWS",
    at: "sessionTags: { namespace",
  },
  {
    name: "unknown pod value",
    text: edit(POD_BASE, "    clusterName: eu-1\n", "    clusterName: eu-1\n    sessionTags: { node: kubernetes-node }\n"),
    path: "kubernetesIssuers[0].sessionTags.node",
    message: 'unknown field "node"',
    at: "node: kubernetes-node",
  },
  {
    name: "static tag colliding with a pod tag",
    text: edit(POD_BASE, "tier: web", "Kubernetes-Namespace: web"),
    path: "workloads[0].aws.sessionTags.Kubernetes-Namespace",
    message: 'collides with the pod session tag "kubernetes-namespace"',
    at: "Kubernetes-Namespace: web",
  },
  {
    name: "static and pod tags over 50",
    text: edit(POD_BASE, "        tier: web\n", fiftyTags),
    path: "workloads[0].aws.sessionTags",
    message: "52 session tags with the 5 pod tags",
    at: "sessionTags:\n        team",
  },
  {
    name: "namespace lock without kubernetes",
    text: edit(POD_BASE, "          maxSessionDuration: 7200\n", "          maxSessionDuration: 7200\n      lockToNamespace: true\n"),
    path: "workloads[1].aws.lockToNamespace",
    message: "needs kubernetes authentication",
    at: "lockToNamespace: true\n    azure:\n      identities:\n        - name: vault-b",
  },
  {
    name: "namespace lock on an undeclared issuer",
    text: edit(POD_BASE, "  - issuer: https://k8s.example.com\n", "  - issuer: https://other.example.com\n"),
    path: "workloads[0].aws.lockToNamespace",
    message: "needs the workload's issuer https://k8s.example.com in kubernetesIssuers",
    at: "lockToNamespace: true",
  },
  {
    name: "namespace lock without the namespace tag",
    text: edit(
      edit(POD_BASE, "    clusterName: eu-1\n", "    clusterName: eu-1\n    sessionTags: { podName: kubernetes-pod-name }\n"),
      "transitiveTagKeys: [kubernetes-namespace]",
      "transitiveTagKeys: []",
    ),
    path: "workloads[0].aws.lockToNamespace",
    message: "needs the namespace session tag",
    at: "lockToNamespace: true",
  },
  {
    name: "agent on a namespace-locked role",
    text: edit(
      edit(POD_BASE, "actFor: [app-b]", "actFor: [app-a, app-b]"),
      "role: arn:aws:iam::111122223333:role/team/app-b",
      "role: arn:aws:iam::111122223333:role/app-a",
    ),
    path: "agents[0].targets[0].aws.role",
    message: "is locked to the namespace of app-a",
    at: "role: arn:aws:iam::111122223333:role/app-a",
  },
];

describe("kubernetesIssuers and lockToNamespace", () => {
  it("accepts the declared issuer and fills the defaults: all five pod tags, pod binding required, plain claims", () => {
    const { config, warnings } = parse(POD_BASE);
    expect(config.kubernetesIssuers).toEqual([
      {
        issuer: "https://k8s.example.com",
        clusterName: "eu-1",
        requirePodBinding: true,
        sessionTags: DEFAULT_POD_SESSION_TAGS,
        transitiveTagKeys: ["kubernetes-namespace"],
        plainClaims: true,
      },
    ]);
    expect(config.workloads[0]?.aws?.lockToNamespace).toBe(true);
    expect(config.workloads[1]?.aws?.lockToNamespace).toBe(false);
    expect(warnings).toEqual([]);
  });

  it("warns when a Kubernetes workload's issuer is not declared while others are (its tokens carry no pod identity)", () => {
    const text = edit(
      edit(POD_BASE, "  - issuer: https://k8s.example.com\n", "  - issuer: https://other.example.com\n"),
      "      lockToNamespace: true\n",
      "",
    );
    const { warnings } = parse(text);
    expect(warnings.map((w) => [w.path, w.line])).toEqual([
      ["workloads[0].authentication.kubernetes.issuer", lineOf(text, "issuer: https://k8s.example.com")],
    ]);
    expect(warnings[0]?.message).toMatch(/no pod identity/);
  });

  it.each(cases)("$name", ({ text, path, message, at }) => {
    const issues = issuesOf(text);
    const hit = issues.find((i) => i.path === path);
    expect(hit, JSON.stringify(issues, null, 1)).toBeDefined();
    expect(hit!.message).toContain(message);
    expect(hit!.line).toBe(lineOf(text, at));
  });
});
