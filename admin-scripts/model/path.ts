/** A path into the config document: object keys and array indexes, as zod and `yaml` use them. */
export type ConfigPath = ReadonlyArray<string | number>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/**
 * The YAML path an operator reads: `workloads[3].aws.roles[0].arn`; keys that are not plain
 * identifiers are quoted (`aws.sessionTags["team:name"]`).
 */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}
