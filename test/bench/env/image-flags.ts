/**
 * The Node flags the production image runs the bundle with (its Dockerfile's ENTRYPOINT, between
 * the node binary and the bundle), so the bench measures the bundle as a pod runs it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execForm, parseDockerfile } from "../../../deploy/build/dockerfile.ts";
import { repoRoot } from "../../../deploy/local/paths.ts";

export function imageNodeFlags(): string[] {
  const dockerfile = parseDockerfile(readFileSync(join(repoRoot, "deploy/docker/Dockerfile"), "utf8"));
  const entrypoint = dockerfile.stages
    .at(-1)
    ?.instructions.filter((i) => i.keyword === "ENTRYPOINT")
    .at(-1);
  const argv = entrypoint ? execForm(entrypoint.args) : undefined;
  const bundle = argv?.findIndex((a) => a.endsWith(".mjs")) ?? -1;
  if (!argv || bundle < 1) throw new Error("deploy/docker/Dockerfile: no exec-form ENTRYPOINT running the bundle");
  return argv.slice(1, bundle);
}
