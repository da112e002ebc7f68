import { setTimeout as sleep } from "node:timers/promises";

/**
 * Whether a process (or, with `group`, any process of the group led by `pid`) still exists.
 * Children are started as group leaders so a wrapper script and the JVM it runs are one unit.
 */
export function isAlive(pid: number, group = false): boolean {
  try {
    process.kill(group ? -pid : pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals, group: boolean): void {
  try {
    process.kill(group ? -pid : pid, sig);
  } catch {
    // already gone
  }
}

/**
 * Stops exactly what this process started under `pid`: SIGTERM to the leader (kc.sh forwards it to
 * its JVM), then SIGKILL to the whole group after `graceMs`. Resolves once every member is gone.
 */
export async function stopPid(pid: number, opts: { group?: boolean; graceMs?: number } = {}): Promise<void> {
  const group = opts.group ?? false;
  if (!isAlive(pid, group)) return;
  signal(pid, "SIGTERM", false);
  const deadline = Date.now() + (opts.graceMs ?? 20_000);
  while (isAlive(pid, group) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid, group)) {
    signal(pid, "SIGKILL", group);
    while (isAlive(pid, group)) await sleep(50);
  }
}

/** Kills what this process started under `pid` at once (SIGKILL to the whole group): a crash, for fault tests. */
export async function killPid(pid: number, group = false): Promise<void> {
  signal(pid, "SIGKILL", group);
  while (isAlive(pid, group)) await sleep(50);
}

const started = new Map<number, boolean>();
let exitHookInstalled = false;

/**
 * Remembers a child this process started so that, should this process exit without tearing down
 * (a crash, Ctrl-C), the child (and its group) is killed by pid instead of being left behind.
 * Returns the function that forgets it after a clean stop.
 */
export function trackChild(pid: number, group = false): () => void {
  started.set(pid, group);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const [p, g] of started) signal(p, "SIGKILL", g);
    });
  }
  return () => started.delete(pid);
}
