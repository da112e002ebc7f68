import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BROKER_ARTIFACT } from "../../../../deploy/build/bundle-options.ts";
import {
  execForm,
  parseCopy,
  parseDockerfile,
  parseHealthcheck,
  substitute,
  type Dockerfile,
  type Stage,
} from "../../../../deploy/build/dockerfile.ts";
import { parseDockerIgnore } from "../../../../deploy/build/dockerignore.ts";

const root = join(import.meta.dirname, "..", "..", "..", "..");
const read = (path: string) => readFileSync(join(root, path), "utf8");
const ignore = parseDockerIgnore(read(".dockerignore"));

const DOCKERFILES = ["deploy/docker/Dockerfile", "deploy/docker/keycloak.Dockerfile"];

function finalStage(file: Dockerfile): Stage {
  const stage = file.stages.at(-1);
  if (!stage) throw new Error("no stage");
  return stage;
}
const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe("Dockerfile reader", () => {
  it.each([
    [
      "--from=build --chown=0:0 --chmod=0444 /a /b /app/",
      { from: "build", chown: "0:0", chmod: "0444", sources: ["/a", "/b"], dest: "/app/" },
    ],
    ["package.json package-lock.json ./", { sources: ["package.json", "package-lock.json"], dest: "./" }],
    ['["a b", "/c"]', { sources: ["a b"], dest: "/c" }],
  ])("COPY %s", (text, expected) => {
    expect(parseCopy(text)).toEqual(expected);
  });

  it("joins continuation lines and skips comments inside them", () => {
    const file = parseDockerfile("FROM a AS b\nRUN one \\\n  # note\n  two\n");
    expect(file.stages[0]?.instructions).toEqual([{ keyword: "RUN", args: "one two", line: 2 }]);
  });

  it("substitutes build arguments", () => {
    expect(
      substitute(
        "${A}:$B-${C}",
        new Map([
          ["A", "x"],
          ["B", "y"],
        ]),
      ),
    ).toBe("x:y-");
  });

  it("reads HEALTHCHECK options and exec form", () => {
    expect(parseHealthcheck('--interval=30s --retries=3 CMD ["node", "h.mjs"]')).toEqual({
      options: { interval: "30s", retries: "3" },
      command: ["node", "h.mjs"],
    });
    expect(execForm("serve")).toBeUndefined();
  });
});

describe(".dockerignore matching", () => {
  const rules = parseDockerIgnore("*\n!broker/\n!deploy/build/\n**/*.log\n");
  it.each([
    ["broker/main.ts", false],
    ["deploy/build/build.ts", false],
    ["deploy/k8s/base/deployment.yaml", true],
    ["node_modules/x/index.js", true],
    ["broker/debug.log", true],
    [".git/config", true],
  ])("%s excluded: %s", (path, excluded) => {
    expect(rules.excludes(path)).toBe(excluded);
  });

  it.each([
    ["node_modules", false],
    [".git", false],
  ])("walks into %s: %s", (dir, expected) => {
    expect(rules.mayIncludeBelow(dir)).toBe(expected);
  });
});

describe.each(DOCKERFILES)("%s", (path) => {
  const file = parseDockerfile(read(path));
  const last = finalStage(file);

  it("is multi-stage and its runtime stage has no shell step", () => {
    expect(file.stages.length).toBeGreaterThanOrEqual(2);
    if (path.endsWith("/Dockerfile")) expect(args(last, "RUN")).toEqual([]);
  });

  it("pins every base image by digest: FROM <image arg>@<digest arg>, the digest required (no default)", () => {
    for (const stage of file.stages) {
      const m = /^\$\{([A-Z_]+)\}@\$\{([A-Z_]+_DIGEST)\}$/.exec(stage.from);
      expect(m, `FROM ${stage.from}`).not.toBeNull();
      const [, imageArg = "", digestArg = ""] = m ?? [];
      expect(file.globalArgs.has(digestArg), `${digestArg} is declared`).toBe(true);
      // No default: a build that does not name the digest fails instead of taking whatever the tag points to.
      expect(file.globalArgs.get(digestArg), digestArg).toBeUndefined();
      // registry/repository:tag, fully qualified; the version is in the tag (node:22-…) or in the
      // repository name (distroless/nodejs22-debian12:nonroot). The tag documents what was tested.
      const image = file.globalArgs.get(imageArg) ?? "";
      const ref = /^([\w-]+(?:\.[\w-]+)+)\/((?:[\w.-]+\/)*([\w.-]+)):([\w.-]+)$/.exec(image);
      expect(ref, image).not.toBeNull();
      const [, , , name, tag] = ref ?? [];
      expect(tag).not.toBe("latest");
      expect(`${name}:${tag}`).toMatch(/\d/);
      // With a digest the reference is valid and exact.
      expect(substitute(stage.from, new Map([...file.globalArgs, [digestArg, `sha256:${"0".repeat(64)}`]]))).toMatch(
        /^[^@\s]+:[\w.-]+@sha256:[0-9a-f]{64}$/,
      );
    }
  });

  it("runs as a numeric non-root user", () => {
    const user = args(last, "USER").at(-1);
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user?.split(":")[0])).toBeGreaterThan(0);
  });

  it("never ADDs anything (no remote URLs, no implicit archive extraction)", () => {
    for (const stage of file.stages) expect(args(stage, "ADD")).toEqual([]);
  });

  it("copies from the build context only what .dockerignore lets in", () => {
    for (const stage of file.stages) {
      for (const copy of args(stage, "COPY")
        .map(parseCopy)
        .filter((c) => c.from === undefined)) {
        for (const source of copy.sources) expect(ignore.excludes(source), source).toBe(false);
      }
    }
  });

  it("starts in exec form", () => {
    expect(execForm(args(last, "ENTRYPOINT").at(-1) ?? "")).toBeDefined();
  });
});

describe("deploy/docker/Dockerfile (the broker)", () => {
  const file = parseDockerfile(read("deploy/docker/Dockerfile"));
  const build = file.stages[0]!;
  const last = finalStage(file);

  it("installs without running any package's install scripts, then builds like a developer", () => {
    expect(args(build, "RUN")).toEqual([
      "npm ci --ignore-scripts --no-audit --no-fund",
      "npm run build -- --entry broker/main.ts --outfile dist/cloud-broker.mjs",
    ]);
  });

  it("uses the same Node major version to build and to run", () => {
    const majors = file.stages.map((s) => /node(?:js)?:?(\d+)/.exec(substitute(s.from, file.globalArgs))?.[1]);
    expect(majors[0]).toBeDefined();
    expect(new Set(majors).size).toBe(1);
  });

  it("ships the bundle, its source map and licences, and the health check, nothing else", () => {
    const copies = args(last, "COPY").map(parseCopy);
    const fromBuild = copies.filter((c) => c.from === "build").flatMap((c) => c.sources);
    expect(fromBuild).toEqual([`/src/${BROKER_ARTIFACT}`, `/src/${BROKER_ARTIFACT}.map`, `/src/${BROKER_ARTIFACT}.LEGAL.txt`]);
    const fromContext = copies.filter((c) => c.from === undefined).flatMap((c) => c.sources);
    expect(fromContext).toEqual(["deploy/docker/healthcheck.mjs"]);
    for (const source of fromContext) expect(existsSync(join(root, source))).toBe(true);
    // Root-owned and read-only for the broker's user.
    for (const c of copies) expect([c.chown, c.chmod]).toEqual(["0:0", "0444"]);
  });

  it("checks its health through /healthz with the runtime's own node", () => {
    const hc = parseHealthcheck(args(last, "HEALTHCHECK").at(-1) ?? "");
    expect(hc).not.toBe("NONE");
    if (hc === "NONE") return;
    expect(hc.command).toEqual(["/nodejs/bin/node", "/app/healthcheck.mjs"]);
    expect(read("deploy/docker/healthcheck.mjs")).toContain('"/healthz"');
    expect(Object.keys(hc.options).sort()).toEqual(["interval", "retries", "start-period", "timeout"]);
  });

  it("runs the bundle (source maps beside it, not parsed at start) and labels the image", () => {
    expect(execForm(args(last, "ENTRYPOINT").at(-1) ?? "")).toEqual([
      "/nodejs/bin/node",
      "--max-semi-space-size=4",
      `/app/${BROKER_ARTIFACT.replace("dist/", "")}`,
    ]);
    expect(args(last, "ENTRYPOINT").join(" ")).not.toContain("--enable-source-maps");
    expect(args(last, "LABEL").join(" ")).toMatch(/org\.opencontainers\.image\.title="cloud-broker"/);
    expect(args(last, "EXPOSE")).toHaveLength(1);
  });

  it("leaves tests, local state and secrets out of the build context", () => {
    for (const path of [
      "node_modules/x",
      ".git/HEAD",
      "dist/cloud-broker.mjs",
      "test/unit/x.test.ts",
      ".venv/bin/python",
      ".kcb/keys/k.pem",
      "realm-config/example/trust-domain.yaml",
    ]) {
      expect(ignore.excludes(path), path).toBe(true);
    }
  });
});
