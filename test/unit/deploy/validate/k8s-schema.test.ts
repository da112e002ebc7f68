import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { schemaName, validateObject } from "../../../../deploy/validate/k8s-schema.ts";

const k8sDir = join(import.meta.dirname, "..", "..", "..", "..", "deploy", "k8s");

/** Every plain resource file (not kustomization files, not patches) under base/ and keycloak/. */
function resourceFiles(): string[] {
  return ["base", "keycloak"].flatMap((dir) =>
    readdirSync(join(k8sDir, dir))
      .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml" && f !== "cloud-broker.yaml")
      .map((f) => join(dir, f)),
  );
}

function documents(file: string): unknown[] {
  return parseAllDocuments(readFileSync(join(k8sDir, file), "utf8")).map((d) => d.toJS() as unknown);
}

const validDeployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "x", labels: { a: "b" } },
  spec: {
    selector: { matchLabels: { a: "b" } },
    template: {
      metadata: { labels: { a: "b" } },
      spec: {
        initContainers: [{ name: "sidecar", image: "i", restartPolicy: "Always" }],
        containers: [{ name: "c", image: "i", resources: { limits: { memory: "1Gi" } } }],
      },
    },
  },
};

/** Sets (or, with `undefined`, deletes) the value at a JSON pointer. */
function setPointer(root: object, pointer: string, value: unknown): void {
  const keys = pointer.split("/").slice(1);
  const last = keys.pop() ?? "";
  let node = root as Record<string, unknown>;
  for (const key of keys) node = node[key] as Record<string, unknown>;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

describe("Kubernetes schema validation", () => {
  it.each([
    ["apps/v1", "Deployment", "IoK8sApiAppsV1Deployment"],
    ["v1", "ConfigMap", "IoK8sApiCoreV1ConfigMap"],
    ["networking.k8s.io/v1", "NetworkPolicy", "IoK8sApiNetworkingV1NetworkPolicy"],
    ["policy/v1", "PodDisruptionBudget", "IoK8sApiPolicyV1PodDisruptionBudget"],
  ])("maps %s %s to %s", (apiVersion, kind, name) => {
    expect(schemaName(apiVersion, kind)).toBe(name);
  });

  it("refuses kinds it has no schema for", () => {
    expect(() => schemaName("k8s.keycloak.org/v2alpha1", "Keycloak")).toThrow(TypeError);
  });

  it("accepts a valid Deployment with a native sidecar", async () => {
    expect(await validateObject(validDeployment)).toEqual([]);
  });

  it.each([
    [
      "an unknown field deep inside",
      "/spec/template/spec/containers/0/readinessProbes",
      {},
      "/spec/template/spec/containers/0/readinessProbes",
    ],
    ["an unknown top-level field", "/specs", {}, "/specs"],
    [
      "a value outside an enum",
      "/spec/template/spec/containers/0/imagePullPolicy",
      "Sometimes",
      "/spec/template/spec/containers/0/imagePullPolicy",
    ],
    ["a missing required field", "/spec/template/spec/containers/0/name", undefined, "/spec/template/spec/containers/0"],
    ["a wrong type", "/spec/replicas", "two", "/spec/replicas"],
  ])("reports %s", async (_what, pointer, value, path) => {
    const broken = structuredClone(validDeployment);
    setPointer(broken, pointer, value);
    const issues = await validateObject(broken);
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it("treats maps (labels, resource quantities) as open", async () => {
    const issues = await validateObject(validDeployment);
    expect(issues.filter((i) => i.path.includes("labels") || i.path.includes("limits"))).toEqual([]);
  });

  it.each(resourceFiles())("deploy/k8s/%s validates", async (file) => {
    const docs = documents(file);
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(await validateObject(doc), file).toEqual([]);
  });
});
