/** A path into a config document: object keys and array indexes, as zod and `yaml` use them. */
export type ConfigPath = ReadonlyArray<PropertyKey>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * The YAML path an operator reads: `workloads[3].aws.roles[0].arn`; keys that are not plain
 * identifiers are quoted (`aws.sessionTags["team:name"]`).
 */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") {
      out += `[${segment}]`;
      continue;
    }
    const key = String(segment);
    out += IDENTIFIER.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
  }
  return out;
}
