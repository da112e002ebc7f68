/**
 * Validates Kubernetes objects offline against the API's OpenAPI schemas, as compiled by the
 * `kubernetes-models` package (Kubernetes 1.34 types: native sidecars, projected tokens, …).
 *
 * Those schemas, like the API's own OpenAPI, do not forbid unknown fields, while the API server
 * rejects them (`kubectl apply --validate=strict`, the default). So unknown fields are found here
 * too: the compiled validator reads every property its schema declares, and a property of the
 * object that it never read is one the schema does not know. Maps (labels, resources, data) are
 * read by enumerating their keys, which marks all of them known.
 */

/** A compiled (ajv standalone) validator as `kubernetes-models/_schemas/*` exports it. */
type ValidateFunc = ((data: unknown) => boolean) & { errors?: Array<{ instancePath: string; keyword: string; message?: string }> | null };

export interface SchemaIssue {
  /** JSON pointer into the object. */
  path: string;
  message: string;
}

const GROUP_PREFIX: Record<string, string> = {
  "": "Core",
  apps: "Apps",
  batch: "Batch",
  policy: "Policy",
  autoscaling: "Autoscaling",
  "networking.k8s.io": "Networking",
  "rbac.authorization.k8s.io": "Rbac",
  "scheduling.k8s.io": "Scheduling",
};

/** `apps/v1` + `Deployment` → `IoK8sApiAppsV1Deployment` (the kubernetes-models schema module). */
export function schemaName(apiVersion: string, kind: string): string {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/", 2) : ["", apiVersion];
  const prefix = GROUP_PREFIX[group ?? ""];
  if (!prefix || !version) throw new TypeError(`no schema known for ${apiVersion} ${kind}`);
  return `IoK8sApi${prefix}${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

async function loadValidator(apiVersion: string, kind: string): Promise<ValidateFunc> {
  const mod = (await import(`kubernetes-models/_schemas/${schemaName(apiVersion, kind)}`)) as { validate: ValidateFunc };
  return mod.validate;
}

interface Watched {
  target: Record<string, unknown>;
  path: string;
  read: Set<string>;
  enumerated: boolean;
}

/** Wraps `value` so every property read and key enumeration is recorded in `watched`. */
function watch(value: unknown, path: string, watched: Watched[]): unknown {
  if (value === null || typeof value !== "object") return value;
  const entry: Watched = { target: value as Record<string, unknown>, path, read: new Set(), enumerated: false };
  if (!Array.isArray(value)) watched.push(entry);
  const children = new Map<string, unknown>();
  return new Proxy(value, {
    get(target, key, receiver) {
      const v: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== "string" || !Object.hasOwn(target, key)) return v;
      entry.read.add(key);
      if (!children.has(key)) children.set(key, watch(v, `${path}/${key}`, watched));
      return children.get(key);
    },
    ownKeys(target) {
      entry.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

/** Every schema error and unknown field of one object (empty when valid). */
export async function validateObject(object: unknown): Promise<SchemaIssue[]> {
  if (object === null || typeof object !== "object") return [{ path: "", message: "not an object" }];
  const { apiVersion, kind } = object as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string") return [{ path: "", message: "apiVersion and kind are required" }];
  const validate = await loadValidator(apiVersion, kind);
  const watched: Watched[] = [];
  const valid = validate(watch(object, "", watched));
  const issues: SchemaIssue[] = valid
    ? []
    : (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: e.message ?? e.keyword }));
  for (const w of watched) {
    if (w.enumerated) continue;
    for (const key of Object.keys(w.target)) {
      if (!w.read.has(key)) issues.push({ path: `${w.path}/${key}`, message: "unknown field" });
    }
  }
  return issues;
}
