/**
 * Harness for the kill-during-rewrite test: rewrites `<target>` forever with the broker's own
 * atomic writer (broker/serve/atomic-file.ts), cycling through the lines of `<contents-file>`, so a
 * SIGKILL at any moment lands inside a write. Prints `ready` once the first write is done.
 *
 *   node atomic-writer.mjs <target> <contents-file>
 */
import { readFileSync } from "node:fs";
import { writeFileAtomic } from "../../../broker/serve/atomic-file.ts";

const [target, source] = process.argv.slice(2);
if (!target || !source) {
  console.error("usage: atomic-writer <target> <contents-file>");
  process.exit(2);
}
const contents = readFileSync(source, "utf8").split("\n").filter(Boolean);
await writeFileAtomic(target, contents[0] ?? "", 0o600);
process.stdout.write("ready\n");
for (let i = 1; ; i++) await writeFileAtomic(target, contents[i % contents.length] ?? "", 0o600);
