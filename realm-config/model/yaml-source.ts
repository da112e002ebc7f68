/**
 * The YAML side of loading a config: parse with positions, and find the line and column of any
 * path in the document so every issue can point at the text an operator has to change.
 */
import { createHash } from "node:crypto";
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { ConfigPath } from "./path.ts";

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

/** A parsed config file: its text, where it lives, and how to locate a path in it. */
export interface ConfigSource {
  /** The file as given (used in messages). */
  file: string;
  /** Directory relative file references (secrets) resolve against. */
  dir: string;
  text: string;
  /** sha256 of the text, hex. */
  sha256: string;
  /** Line and column of the deepest node on `path` that exists (the document start if none). */
  locate(path: ConfigPath): Position;
}

export interface ParsedYaml {
  /** The document as plain data (`undefined` for an empty document). */
  data: unknown;
  /** YAML syntax errors (tabs, duplicate keys, bad indentation …), already located. */
  syntaxErrors: Array<Position & { message: string }>;
  locate(path: ConfigPath): Position;
  sha256: string;
}

export function parseYaml(text: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };

  const locate = (path: ConfigPath): Position => {
    let node: unknown = doc.contents;
    let offset = isNode(node) && node.range ? node.range[0] : 0;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
        if (!pair) break;
        // Point at the key: that is where an editor should put the cursor for "this field is wrong".
        if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
        node = pair.value;
      } else if (isSeq(node) && typeof segment === "number") {
        const item: unknown = node.items[segment];
        if (!isNode(item)) break;
        if (item.range) offset = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return at(offset);
  };

  return {
    data: doc.errors.length ? undefined : (doc.toJS({ maxAliasCount: 100 }) as unknown),
    syntaxErrors: doc.errors.map((e) => ({ ...at(e.pos[0]), message: e.message.split("\n")[0] ?? e.message })),
    locate,
    sha256: createHash("sha256").update(text).digest("hex"),
  };
}
