/**
 * The Dockerfile's steps without a Docker engine: reads `deploy/docker/Dockerfile` and
 * `.dockerignore`, snapshots the build context, and for every stage runs its `RUN` lines with the
 * host's Node and npm and performs its `COPY` lines into a directory standing for that stage's
 * root filesystem. The last stage's directory is the image's content (only what COPY put there: the
 * base image's own files are not reproduced), beside `image.json` with its config (entrypoint,
 * user, env, healthcheck). So the image the Dockerfile describes can be built and started here.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { execForm, parseCopy, parseDockerfile, parseHealthcheck, parseKeyValues, splitArg, substitute, type Stage } from "./dockerfile.ts";
import { parseDockerIgnore } from "./dockerignore.ts";

export interface ImageConfig {
  /** Directory holding the final stage's files, standing for `/`. */
  rootfs: string;
  entrypoint: string[];
  cmd: string[];
  env: Record<string, string>;
  user?: string;
  workdir: string;
  healthcheck?: { options: Record<string, string>; command: string[] };
  exposedPorts: string[];
  labels: Record<string, string>;
}

export interface ImageStepsOptions {
  /** Repository root (the build context). */
  context: string;
  /** Dockerfile path, relative to the context. */
  dockerfile: string;
  /** Empty or absent directory that receives `context/`, `stages/<n>/`, `rootfs` and `image.json`. */
  out: string;
  buildArgs?: Record<string, string>;
  log?: (line: string) => void;
}

/** Runs every stage of the Dockerfile; returns the final image's config. */
export function runImageSteps(opts: ImageStepsOptions): ImageConfig {
  const log = opts.log ?? (() => {});
  const file = parseDockerfile(readFileSync(join(opts.context, opts.dockerfile), "utf8"));
  rmSync(opts.out, { recursive: true, force: true });
  const contextDir = join(opts.out, "context");
  snapshotContext(opts.context, contextDir);
  log(`context: ${countFiles(contextDir)} files after .dockerignore`);

  const stageRoots = new Map<string, string>();
  let config: ImageConfig | undefined;
  file.stages.forEach((stage, index) => {
    const root = join(opts.out, "stages", String(index));
    mkdirSync(root, { recursive: true });
    config = runStage(stage, root, contextDir, stageRoots, new Map([...file.globalArgs, ...Object.entries(opts.buildArgs ?? {})]), log);
    stageRoots.set(String(index), root);
    if (stage.name) stageRoots.set(stage.name, root);
  });
  if (!config) throw new TypeError(`${opts.dockerfile}: no stage`);
  writeFileSync(join(opts.out, "image.json"), `${JSON.stringify(config, null, 2)}\n`);
  return config;
}

function runStage(
  stage: Stage,
  root: string,
  contextDir: string,
  stageRoots: ReadonlyMap<string, string>,
  globalArgs: ReadonlyMap<string, string | undefined>,
  log: (line: string) => void,
): ImageConfig {
  const vars = new Map<string, string | undefined>();
  const config: ImageConfig = { rootfs: root, entrypoint: [], cmd: [], env: {}, workdir: "/", exposedPorts: [], labels: {} };
  log(`stage ${stage.name ?? "?"} FROM ${substitute(stage.from, globalArgs)}`);
  for (const ins of stage.instructions) {
    const args = substitute(ins.args, new Map([...vars, ...Object.entries(config.env)]));
    switch (ins.keyword) {
      case "ARG": {
        const [name, value] = splitArg(ins.args);
        vars.set(name, globalArgs.get(name) ?? value);
        break;
      }
      case "ENV":
        for (const [k, v] of parseKeyValues(args)) config.env[k] = v;
        break;
      case "LABEL":
        for (const [k, v] of parseKeyValues(args)) config.labels[k] = v;
        break;
      case "WORKDIR":
        config.workdir = args.startsWith("/") ? args : join(config.workdir, args);
        mkdirSync(join(root, config.workdir), { recursive: true });
        break;
      case "COPY":
        copy(args, root, config.workdir, contextDir, stageRoots);
        break;
      case "RUN": {
        log(`RUN ${args}`);
        const started = Date.now();
        const res = spawnSync("/bin/sh", ["-c", args], {
          cwd: join(root, config.workdir),
          env: { ...process.env, ...config.env },
          stdio: ["ignore", "inherit", "inherit"],
        });
        if (res.status !== 0) throw new Error(`line ${ins.line}: RUN ${args} failed (exit ${res.status ?? res.signal})`);
        log(`RUN done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        break;
      }
      case "USER":
        config.user = args;
        break;
      case "EXPOSE":
        config.exposedPorts.push(...args.split(/\s+/));
        break;
      case "ENTRYPOINT":
        config.entrypoint = execForm(args) ?? ["/bin/sh", "-c", args];
        break;
      case "CMD":
        config.cmd = execForm(args) ?? ["/bin/sh", "-c", args];
        break;
      case "HEALTHCHECK": {
        const hc = parseHealthcheck(args);
        if (hc !== "NONE") config.healthcheck = hc;
        break;
      }
      default:
        throw new TypeError(`line ${ins.line}: ${ins.keyword} is not supported by the image steps`);
    }
  }
  return config;
}

function copy(args: string, root: string, workdir: string, contextDir: string, stageRoots: ReadonlyMap<string, string>): void {
  const spec = parseCopy(args);
  const fromRoot = spec.from === undefined ? contextDir : stageRoots.get(spec.from);
  if (!fromRoot) throw new TypeError(`COPY --from=${spec.from}: no such stage`);
  const dest = join(root, spec.dest.startsWith("/") ? spec.dest : join(workdir, spec.dest));
  const intoDir = spec.dest.endsWith("/") || spec.sources.length > 1;
  for (const source of spec.sources) {
    const src = join(fromRoot, source);
    if (!existsSync(src))
      throw new Error(`COPY ${source}: not in the ${spec.from === undefined ? "build context (see .dockerignore)" : `stage ${spec.from}`}`);
    // Docker copies a directory's contents, and a file into a directory when dest ends in "/".
    const target = statSync(src).isDirectory() ? dest : intoDir ? join(dest, basename(src)) : dest;
    mkdirSync(statSync(src).isDirectory() ? target : join(target, ".."), { recursive: true });
    cpSync(src, target, { recursive: true });
    if (spec.chmod) chmodTree(target, Number.parseInt(spec.chmod, 8));
  }
}

function chmodTree(path: string, mode: number): void {
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) chmodTree(join(path, entry), mode);
  else chmodSync(path, mode);
}

function snapshotContext(context: string, into: string): void {
  const ignorePath = join(context, ".dockerignore");
  const ignore = parseDockerIgnore(existsSync(ignorePath) ? readFileSync(ignorePath, "utf8") : "");
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, entry.name);
      const rel = relative(context, abs);
      if (entry.isDirectory()) {
        if (!ignore.excludes(rel) || ignore.mayIncludeBelow(rel)) walk(abs);
      } else if ((entry.isFile() || entry.isSymbolicLink()) && !ignore.excludes(rel)) {
        mkdirSync(join(into, relative(context, dir)), { recursive: true });
        cpSync(abs, join(into, rel));
      }
    }
  };
  mkdirSync(into, { recursive: true });
  walk(context);
}

function countFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).length;
}
