// How the CLI fails: a usage error (bad arguments, exit 2) or a coded error
// (exit 1). Library errors keep their WshmError code; the CLI's own failures
// get codes of their own, shown the same way.

import { WshmError } from "../ts/mod.ts";
import { colors } from "./format.ts";

/** Bad arguments: the command line itself is wrong. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure of a CLI command that is not a library error (e.g. a segment in use). */
export class CliError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = "CliError";
    this.code = code;
  }
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The code shown for an error: WshmError/CliError code, "Usage", or "Internal". */
export function errorCode(error: unknown): string {
  if (error instanceof UsageError) return "Usage";
  if (error instanceof WshmError || error instanceof CliError) return error.code;
  if (error instanceof RangeError || error instanceof TypeError) {
    // The library's argument errors carry their code (ts/errors.ts argumentError), e.g. InvalidName.
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" && /^[A-Z][A-Za-z]+$/.test(code) ? code : "InvalidArgument";
  }
  if (error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotCapable) {
    return "PermissionDenied";
  }
  return "Internal";
}

/** Ended by SIGINT or SIGTERM, as shells count it (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/** The exit code for an error. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT_USAGE;
  if (error instanceof CliError && error.code === "Interrupted") return EXIT_INTERRUPTED;
  // A command this installation cannot run (bench outside a clone): misuse, as the bin reports it.
  if (error instanceof CliError && error.code === "RepositoryOnly") return EXIT_USAGE;
  return EXIT_FAILURE;
}

/**
 * Prints an error on stderr: one readable line with its code (and a hint to
 * `--help` for usage errors), or one JSON object when `json` is set.
 */
export function reportError(error: unknown, json: boolean, command = "wshm"): void {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  if (json) {
    console.error(JSON.stringify({ error: { code, message } }));
    return;
  }
  const c = colors();
  console.error(`${c.red(c.bold("error"))} ${c.dim(`[${code}]`)} ${message}`);
  if (error instanceof UsageError) console.error(c.dim(`Run \`${command} --help\` for usage.`));
  else if (code === "Internal" && error instanceof Error && error.stack) {
    console.error(c.dim(error.stack.split("\n").slice(1).join("\n")));
  }
}
