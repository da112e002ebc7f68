/**
 * POSIX shell single-quoting. Also what Python's `shlex.split` (botocore's credential_process
 * parser) undoes, so one quoted command line works for both SDKs.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** `value` as one shell word: bare when it is plainly safe, single-quoted otherwise. */
export function shellQuote(value: string): string {
  if (value !== "" && SAFE.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
