import { spawn } from "node:child_process";
import { join } from "node:path";
import { repoRoot } from "../paths.ts";

export type ProgramResult = Record<string, Record<string, unknown>>;

const TSX = join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");

/**
 * Runs a program with exactly the given environment (plus PATH and HOME), as a workload process
 * would be started, and parses the JSON line it prints last.
 */
export async function runJsonProgram(command: string, args: string[], env: Record<string, string>): Promise<ProgramResult> {
  const child = spawn(command, args, {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as ProgramResult;
  } catch {
    throw new Error(
      `${args.at(-1) ?? command} exited with ${code}: ${err
        .split("\n")
        .filter((l) => l && !l.includes("NodeVersionSupportWarning"))
        .slice(-3)
        .join(" | ")}`,
    );
  }
}

/** Runs one of the demo's programs (`workload.ts`, `agent.ts`) with tsx. */
export function runDemoProgram(script: string, env: Record<string, string>): Promise<ProgramResult> {
  return runJsonProgram(process.execPath, [TSX, join(repoRoot, "deploy", "local", "demo", script)], env);
}
