/**
 * Preloaded into every Node process of the integration run (`NODE_OPTIONS=--import=…`, set by the
 * global setup through test/support/log-scan.ts): copies what the process writes to stderr — and,
 * for the broker and realm-sync, to stdout (the broker's audit events go there) — into
 * `$KCB_TEST_LOG_DIR/<pid>-<script>.<stream>.log`, where the end-of-run log scan reads it.
 *
 * Plain JavaScript, no dependency: it must load in any Node process, with or without tsx. It never
 * changes what the process writes, and never throws.
 */
import { openSync, writeSync } from "node:fs";
import { basename, join } from "node:path";

// Programs whose stdout is a log (events, reports) rather than a protocol answer.
const LOGS_ON_STDOUT = /(?:^|[/\\])(?:broker[/\\]main\.ts|cloud-broker(?:\.mjs)?|admin-scripts[/\\]cli\.ts|live-broker\.ts)$/;
// Their commands whose stdout IS the answer (credentials for credential_process, env values).
const PROTOCOL_COMMANDS = new Set(["credential-process", "env"]);

function label(argv) {
  const script = argv[1] ? basename(argv[1]) : "node";
  const command = argv[2] && !argv[2].startsWith("-") ? `-${argv[2]}` : "";
  return `${script}${command}`.replace(/[^\w.-]/g, "_").slice(0, 80);
}

function tee(stream, file) {
  const original = stream.write.bind(stream);
  let fd;
  stream.write = function teeWrite(chunk, encoding, callback) {
    try {
      fd ??= openSync(file, "a", 0o600);
      const bytes = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : chunk;
      writeSync(fd, bytes);
    } catch {
      // the copy is best effort; the real write below must happen regardless
    }
    return original(chunk, encoding, callback);
  };
  // The descriptor stays open until the process ends (the OS closes it): a write from a late exit
  // handler must not land in a reused descriptor.
}

const dir = process.env.KCB_TEST_LOG_DIR;
if (dir) {
  const name = `${process.pid}-${label(process.argv)}`;
  tee(process.stderr, join(dir, `${name}.stderr.log`));
  const script = process.argv[1] ?? "";
  if (LOGS_ON_STDOUT.test(script) && !process.argv.slice(2).some((arg) => PROTOCOL_COMMANDS.has(arg))) {
    tee(process.stdout, join(dir, `${name}.stdout.log`));
  }
}
