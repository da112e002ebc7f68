import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { cacheDir } from "../paths.ts";

/** One running part of the local stack, as `status` shows it. */
export interface StackComponent {
  name: string;
  kind:
    | "keycloak"
    | "issuer-front"
    | "sts-emulator"
    | "entra-emulator"
    | "bedrock-emulator"
    | "azure-openai-emulator"
    | "broker"
    | "kube-issuer";
  url: string;
  /** URL answering 200 when healthy. */
  healthUrl?: string;
  pid?: number;
}

/** What `stack up` leaves behind for `status`, `env` and `down`. Holds no secret. */
export interface StackState {
  supervisorPid: number;
  phase: "starting" | "ready" | "failed" | "stopped";
  startedAt: string;
  error?: string;
  components: StackComponent[];
  /** The environment a workload needs, as a dotenv file. */
  envFile?: string;
  logFile: string;
}

/** Where the stack keeps its state, Keycloak data, secrets and logs; KCB_STACK_DIR overrides it. */
export function stackDir(): string {
  return process.env.KCB_STACK_DIR ?? join(cacheDir(), "state", "stack");
}

export function stateFile(dir = stackDir()): string {
  return join(dir, "stack.json");
}

export function readState(dir = stackDir()): StackState | undefined {
  const file = stateFile(dir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as StackState) : undefined;
}

/** Atomic: a reader never sees half a file. */
export function writeState(state: StackState, dir = stackDir()): void {
  const file = stateFile(dir);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, JSON.stringify(state, null, 2) + "\n");
  renameSync(`${file}.tmp`, file);
}
