/**
 * Setup file of the unit project (vitest.config.ts): unit tests open no socket and start no
 * process. Listening, connecting (which covers `fetch`) and spawning throw, so a test that needs
 * the network or a child process fails at once and belongs in test/integration/.
 */
import childProcess from "node:child_process";
import { Server, Socket } from "node:net";
import { syncBuiltinESMExports } from "node:module";

function refuse(what: string): never {
  throw new Error(`unit tests ${what}; this test belongs in test/integration/`);
}

Server.prototype.listen = function listen(): never {
  refuse("open no listening socket");
};
Socket.prototype.connect = function connect(): never {
  refuse("open no network connection");
};
for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const) {
  (childProcess as unknown as Record<string, unknown>)[name] = () => refuse("start no process");
}
// Named imports of node:child_process (`import { spawn } …`) see the replacements too.
syncBuiltinESMExports();
