/**
 * deploy/k8s rendered by the real kustomize and validated against the Kubernetes schemas (unknown
 * fields included), plus the rules the manifests exist for: a native sidecar with a projected
 * Keycloak token, hardened containers, probes on /healthz and /readyz, and a workload environment
 * that points at what the broker serves.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { parseBrokerConfig } from "../../../broker/config.ts";
import { toServeOptions } from "../../../broker/config/serve-options.ts";
import { enabledModes } from "../../../broker/serve/env.ts";
import { ensureKustomize, kustomizeBuild } from "../../../deploy/validate/kustomize.ts";
import { validateObject } from "../../../deploy/validate/k8s-schema.ts";
import { cacheDir, repoRoot } from "../../../deploy/local/paths.ts";

interface Container {
  name: string;
  image: string;
  restartPolicy?: string;
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  securityContext?: Record<string, unknown> & { capabilities?: { drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}
interface Probe {
  exec?: { command: string[] };
  httpGet?: { path: string };
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  data?: Record<string, string>;
  spec?: {
    ingressClassName?: string;
    rules?: Array<{ host: string; http: { paths: Array<{ path: string; pathType: string }> } }>;
    ingress?: Array<{ from?: Array<Record<string, unknown>>; ports?: Array<{ port: number }> }>;
    template?: {
      spec: {
        securityContext?: Record<string, unknown>;
        initContainers?: Container[];
        containers: Container[];
        volumes?: Array<{
          name: string;
          secret?: { secretName: string };
          projected?: { sources: Array<{ serviceAccountToken?: { audience: string; expirationSeconds: number; path: string } }> };
          emptyDir?: { medium?: string };
        }>;
      };
    };
  };
}

const OVERLAYS = ["overlays/eu", "overlays/us"];
const rendered = new Map<string, K8sObject[]>();

beforeAll(() => {
  const bin = ensureKustomize(cacheDir(), (line) => console.error(`[kustomize] ${line}`));
  for (const dir of ["base", "keycloak", ...OVERLAYS]) {
    const docs = parseAllDocuments(kustomizeBuild(bin, join(repoRoot, "deploy", "k8s", dir))).map((d) => d.toJS() as K8sObject);
    rendered.set(dir, docs);
  }
}, 600_000);

function workload(dir: string): {
  pod: NonNullable<NonNullable<K8sObject["spec"]>["template"]>["spec"];
  config: Record<string, unknown>;
  configText: string;
} {
  const docs = rendered.get(dir) ?? [];
  const deployment = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "payments-api");
  const configMap = docs.find((d) => d.kind === "ConfigMap" && d.metadata.name.startsWith("cloud-broker"));
  if (!deployment?.spec?.template || !configMap?.data?.["config.yaml"])
    throw new Error(`${dir}: no payments-api Deployment or broker ConfigMap`);
  return {
    pod: deployment.spec.template.spec,
    config: parse(configMap.data["config.yaml"]) as Record<string, unknown>,
    configText: configMap.data["config.yaml"],
  };
}

describe("deploy/k8s", () => {
  it.each(["base", "keycloak", ...OVERLAYS])("%s: every rendered object validates against the Kubernetes 1.34 schemas", async (dir) => {
    const docs = rendered.get(dir) ?? [];
    expect(docs.length).toBeGreaterThan(0);
    for (const doc of docs) expect(await validateObject(doc), `${doc.kind}/${doc.metadata.name}`).toEqual([]);
    console.error(`[manifests] ${dir}: ${docs.length} objects valid (${docs.map((d) => d.kind).join(", ")})`);
  });

  it.each(OVERLAYS)("%s: the broker is a native sidecar holding a projected service-account token for Keycloak", (dir) => {
    const { pod, config } = workload(dir);
    const sidecar = pod.initContainers?.find((c) => c.name === "cloud-broker");
    expect(sidecar?.restartPolicy).toBe("Always");
    const tokenVolume = pod.volumes?.find((v) => v.projected?.sources.some((s) => s.serviceAccountToken));
    const sat = tokenVolume?.projected?.sources.find((s) => s.serviceAccountToken)?.serviceAccountToken;
    // The federated client assertion's audience is the realm issuer (realm-config default).
    expect(sat?.audience).toBe(config.issuer);
    expect(sat?.expirationSeconds).toBe(3600);
    const mount = sidecar?.volumeMounts?.find((m) => m.name === tokenVolume?.name);
    const auth = config.authentication as { kubernetes?: { tokenFile?: string } };
    expect(`${mount?.mountPath}/${sat?.path}`).toBe(auth.kubernetes?.tokenFile);
  });

  it.each(OVERLAYS)("%s: the broker's state is shared with the app in memory, read-only for the app", (dir) => {
    const { pod, config } = workload(dir);
    const state = pod.volumes?.find((v) => v.emptyDir?.medium === "Memory");
    const stateDir = (config.serve as { stateDir?: string }).stateDir;
    const sidecarMount = pod.initContainers?.[0]?.volumeMounts?.find((m) => m.name === state?.name);
    const appMount = pod.containers.find((c) => c.name === "app")?.volumeMounts?.find((m) => m.name === state?.name);
    expect(sidecarMount?.mountPath).toBe(stateDir);
    expect(appMount).toEqual({ name: state?.name, mountPath: stateDir, readOnly: true });
  });

  it.each(OVERLAYS)("%s: every container is hardened and has resource limits; every mount has a volume", (dir) => {
    const { pod } = workload(dir);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
    const volumes = new Set(pod.volumes?.map((v) => v.name));
    for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
      expect(c.securityContext, c.name).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(c.resources?.requests?.memory, c.name).toBeDefined();
      expect(c.resources?.limits?.memory, c.name).toBeDefined();
      for (const m of c.volumeMounts ?? []) expect(volumes.has(m.name), `${c.name}: ${m.name}`).toBe(true);
    }
  });

  it.each(OVERLAYS)("%s: liveness on /healthz, readiness and start-up on /readyz", (dir) => {
    const sidecar = workload(dir).pod.initContainers?.[0];
    const target = (p?: Probe) => p?.httpGet?.path ?? p?.exec?.command.at(-1);
    expect(target(sidecar?.livenessProbe)).toBe("/healthz");
    expect(target(sidecar?.readinessProbe)).toBe("/readyz");
    expect(target(sidecar?.startupProbe)).toBe("/readyz");
  });

  it.each(OVERLAYS)("%s: the app's SDK environment points at the broker's loopback listener", (dir) => {
    const { pod, config } = workload(dir);
    const serve = config.serve as { host: string; port: number };
    const env = Object.fromEntries((pod.containers.find((c) => c.name === "app")?.env ?? []).map((e) => [e.name, e.value ?? ""]));
    const urls = ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "IDENTITY_ENDPOINT", "AZURE_POD_IDENTITY_AUTHORITY_HOST"]
      .filter((k) => k in env)
      .map((k) => env[k] ?? "");
    for (const url of urls) expect(url.startsWith(`http://${serve.host}:${serve.port}`), url).toBe(true);
    const files = ["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AZURE_FEDERATED_TOKEN_FILE"]
      .filter((k) => k in env)
      .map((k) => env[k] ?? "");
    for (const file of files) expect(file.startsWith(`${(config.serve as { stateDir: string }).stateDir}/`), file).toBe(true);
    // One AWS and one Azure mode per overlay.
    expect(urls.length + files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(OVERLAYS)("%s: the sidecar serves exactly the delivery modes the app's environment uses (no IMDS unless asked for)", (dir) => {
    const { pod, configText } = workload(dir);
    const envOf = (c?: Container) => Object.fromEntries((c?.env ?? []).map((e) => [e.name, e.value ?? ""]));
    const sidecarEnv = envOf(pod.initContainers?.find((c) => c.name === "cloud-broker"));
    const parsed = parseBrokerConfig(configText, sidecarEnv);
    if (!parsed.ok) throw new Error(`${dir}: the rendered broker config is invalid: ${JSON.stringify(parsed.errors)}`);
    const served = enabledModes(toServeOptions(parsed.config));
    const app = envOf(pod.containers.find((c) => c.name === "app"));
    const used = [
      "AWS_CONTAINER_CREDENTIALS_FULL_URI" in app && "aws-container",
      "AWS_WEB_IDENTITY_TOKEN_FILE" in app && "aws-web-identity",
      "AWS_CONFIG_FILE" in app && "aws-credential-process",
      "IDENTITY_ENDPOINT" in app && "azure-app-service",
      "AZURE_POD_IDENTITY_AUTHORITY_HOST" in app && "azure-imds",
      "AZURE_FEDERATED_TOKEN_FILE" in app && "azure-workload-identity",
    ].filter(Boolean);
    expect(used.length).toBeGreaterThanOrEqual(2);
    expect(served).toEqual(used);
  });

  it.each(OVERLAYS)(
    "%s: the broker's ops port admits only Prometheus's namespace; every other admitted port is a declared port of the app",
    (dir) => {
      const { pod } = workload(dir);
      const policies = (rendered.get(dir) ?? []).filter(
        (d) => d.kind === "NetworkPolicy" && (d.spec as { policyTypes?: string[] } | undefined)?.policyTypes?.includes("Ingress"),
      );
      const selecting = policies.filter((p) => JSON.stringify((p.spec as { podSelector?: unknown }).podSelector).includes("payments-api"));
      expect(selecting.length).toBeGreaterThan(0);
      const rules = selecting.flatMap((p) => p.spec?.ingress ?? []);
      const opsPort = pod.initContainers?.find((c) => c.name === "cloud-broker")?.ports?.find((p) => p.name === "ops")?.containerPort;
      const ops = rules.filter((r) => r.ports?.some((p) => p.port === opsPort));
      expect(ops.flatMap((r) => r.from ?? [])).toEqual([
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      ]);
      const appPorts = pod.containers.flatMap((c) => c.ports?.map((p) => p.containerPort) ?? []);
      for (const rule of rules) {
        expect(rule.ports?.length, JSON.stringify(rule)).toBeGreaterThan(0);
        for (const p of rule.ports ?? []) expect([opsPort, ...appPorts], JSON.stringify(rule)).toContain(p.port);
      }
    },
  );

  it("keycloak: the trust domain's features are built into the image it runs, with one public hostname", () => {
    const kc = (rendered.get("overlays/eu") ?? []).find((d) => d.kind === "Deployment" && d.metadata.name === "keycloak");
    const container = kc?.spec?.template?.spec.containers[0];
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    expect(env.KC_HOSTNAME).toBe("https://id.example.com");
    expect(env.KC_HOSTNAME_ADMIN).toBe("https://kc-eu.admin.example.com");
    expect(env.KC_PROXY_HEADERS).toBe("xforwarded");
    expect(container?.readinessProbe?.httpGet?.path).toBe("/health/ready");
    const us = (rendered.get("overlays/us") ?? []).find((d) => d.kind === "Deployment" && d.metadata.name === "keycloak");
    expect(us?.spec?.template?.spec.containers[0]?.env?.find((e) => e.name === "KC_HOSTNAME")?.value).toBe("https://id.example.com");
  });

  describe.each(OVERLAYS)("%s: Keycloak as deployed", (dir) => {
    const objects = () => rendered.get(dir) ?? [];
    const keycloak = () => {
      const pod = objects().find((d) => d.kind === "Deployment" && d.metadata.name === "keycloak")?.spec?.template?.spec;
      if (!pod) throw new Error("no keycloak Deployment");
      const container = pod.containers[0]!;
      return { pod, container, env: Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? ""])) };
    };
    const ingress = (name: string) => objects().find((d) => d.kind === "Ingress" && d.metadata.name === name);

    it("believes X-Forwarded-* only from the ingress controllers' own addresses (no range wider than /24)", () => {
      const { env } = keycloak();
      expect(env.KC_PROXY_HEADERS).toBe("xforwarded");
      const ranges = (env.KC_PROXY_TRUSTED_ADDRESSES ?? "").split(",").map((r) => r.trim());
      expect(ranges.length).toBeGreaterThan(0);
      for (const range of ranges) {
        const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(range);
        expect(m, range).not.toBeNull();
        expect(Number(m?.[5] ?? 32), range).toBeGreaterThanOrEqual(24);
      }
    });

    it("admits 8443 and 9000 only from named sources; nothing is open to every address", () => {
      const policy = objects().find((d) => d.kind === "NetworkPolicy" && d.metadata.name === "keycloak");
      const rules = policy?.spec?.ingress ?? [];
      expect(rules.length).toBeGreaterThan(0);
      const ports = new Set<number>();
      for (const rule of rules) {
        expect(rule.from?.length, JSON.stringify(rule)).toBeGreaterThan(0);
        expect(rule.ports?.length, JSON.stringify(rule)).toBeGreaterThan(0);
        for (const p of rule.ports ?? []) ports.add(p.port);
        for (const peer of rule.from ?? []) expect(JSON.stringify(peer)).not.toContain("0.0.0.0/0");
      }
      expect([...ports].sort()).toEqual([7800, 8443, 9000]);
      const metrics = rules.filter((r) => r.ports?.some((p) => p.port === 9000));
      expect(metrics.flatMap((r) => r.from ?? [])).toEqual([
        { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
      ]);
    });

    it("serves the admin API on this cluster's admin host only; the public issuer host carries discovery and JWKS, nothing else", () => {
      const { env } = keycloak();
      const publicHost = new URL(env.KC_HOSTNAME ?? "").host;
      const adminHost = new URL(env.KC_HOSTNAME_ADMIN ?? "").host;
      expect(adminHost).not.toBe(publicHost);
      const pub = ingress("keycloak-public");
      expect(pub?.spec?.rules?.map((r) => r.host)).toEqual([publicHost]);
      const paths = pub?.spec?.rules?.flatMap((r) => r.http.paths) ?? [];
      expect(paths.map((p) => `${p.pathType} ${p.path}`).sort()).toEqual([
        "Exact /realms/trust/.well-known/openid-configuration",
        "Exact /realms/trust/protocol/openid-connect/certs",
      ]);
      const internal = ingress("keycloak-internal");
      expect(internal?.spec?.ingressClassName).not.toBe(pub?.spec?.ingressClassName);
      expect(internal?.spec?.rules?.map((r) => r.host)).toEqual([adminHost]);
      expect(internal?.spec?.rules?.flatMap((r) => r.http.paths).map((p) => p.path)).toContain("/admin/");
      // No other Ingress reaches Keycloak.
      expect(
        objects()
          .filter((d) => d.kind === "Ingress")
          .map((d) => d.metadata.name)
          .sort(),
      ).toEqual(["keycloak-internal", "keycloak-public"]);
    });

    it("loads the signing keys from a mounted Secret through the files vault; no key is in the admin API's path", () => {
      const { pod, container, env } = keycloak();
      const keystores = env.KC_SPI_KEYS__JAVA_KEYSTORE__KEYSTORES_PATH;
      expect(keystores).toBeDefined();
      const byName = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
      const keystoreMount = container.volumeMounts?.find((m) => m.mountPath === `${keystores}/trust`);
      expect(keystoreMount?.readOnly).toBe(true);
      expect(byName.get(keystoreMount?.name ?? "")?.secret?.secretName).toBe("keycloak-signing-keys");
      const vaultMount = container.volumeMounts?.find((m) => m.mountPath === env.KC_VAULT_DIR);
      expect(vaultMount?.readOnly).toBe(true);
      expect(byName.get(vaultMount?.name ?? "")?.secret?.secretName).toBe("keycloak-vault");
      expect(readFileSync(join(repoRoot, "deploy", "docker", "keycloak.Dockerfile"), "utf8")).toMatch(/--vault=file/);
    });
  });
});
