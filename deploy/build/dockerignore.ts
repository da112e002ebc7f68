/**
 * `.dockerignore` matching as Docker's builder does it: patterns in order, the last match wins,
 * `!` re-includes, a pattern matching a directory matches everything beneath it, `**` spans
 * directories. Pure. https://docs.docker.com/build/concepts/context/#dockerignore-files
 */

interface Rule {
  negate: boolean;
  regex: RegExp;
  /** The pattern's literal directory prefix, to tell whether it could match below a directory. */
  text: string;
}

export interface DockerIgnore {
  /** Whether a context-relative path (forward slashes) is left out of the build context. */
  excludes(path: string): boolean;
  /** Whether some `!` rule could re-include something below this directory. */
  mayIncludeBelow(dir: string): boolean;
}

export function parseDockerIgnore(text: string): DockerIgnore {
  const rules: Rule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    const pattern = clean(negate ? line.slice(1).trim() : line);
    rules.push({ negate, regex: toRegex(pattern), text: pattern });
  }
  const matches = (rule: Rule, path: string): boolean => {
    // A rule that matches a parent directory matches the path too.
    const parts = path.split("/");
    for (let i = parts.length; i > 0; i--) if (rule.regex.test(parts.slice(0, i).join("/"))) return true;
    return false;
  };
  return {
    excludes(path) {
      let excluded = false;
      for (const rule of rules) if (matches(rule, clean(path))) excluded = !rule.negate;
      return excluded;
    },
    mayIncludeBelow(dir) {
      const prefix = `${clean(dir)}/`;
      return rules.some((r) => r.negate && (r.text.startsWith(prefix) || r.text.includes("*")));
    },
  };
}

function clean(path: string): string {
  return path
    .replace(/^\.?\/+/, "")
    .replace(/\/+$/, "")
    .replace(/\/+/g, "/");
}

function toRegex(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      if (pattern[i + 1] === "/") {
        out += "(?:.*/)?";
        i++;
      } else out += ".*";
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else out += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}
