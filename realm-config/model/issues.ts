import type { ConfigPath } from "./path.ts";

/** A problem found in the config data, before it is located in the file. */
export interface PathIssue {
  path: ConfigPath;
  message: string;
  /** Warnings are printed but do not make the config invalid. */
  severity: "error" | "warning";
}

export const error = (path: ConfigPath, message: string): PathIssue => ({ path, message, severity: "error" });
export const warning = (path: ConfigPath, message: string): PathIssue => ({ path, message, severity: "warning" });
