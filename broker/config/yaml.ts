/**
 * Parses the config file keeping positions, so every validation error can point at the line and
 * column an operator has to change.
 */
import { isMap, isNode, isPair, isScalar, isSeq, LineCounter, parseDocument } from "yaml";

export type ConfigPath = ReadonlyArray<PropertyKey>;

export interface Position {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

export interface ParsedYaml {
  /** The document as plain data (`undefined` when empty or unparsable). */
  data: unknown;
  syntaxErrors: Array<Position & { message: string }>;
  /** Position of the deepest node on `path` that exists in the document. */
  locate(path: ConfigPath): Position;
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
  };
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$-]*$/;

/** `aws.roles[0].arn`: the path as an operator reads it. */
export function formatPath(path: ConfigPath): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (typeof segment === "string" && IDENTIFIER.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out;
}
