// Shared by every suite: unique segment names that are always cleaned up,
// spawning fixture processes under any runtime with a watchdog, and timeouts
// for anything that could block.

import { spawn } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export type Runtime = "deno" | "node" | "bun";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime running this suite. */
export const runtime: Runtime = g.Bun ? "bun" : g.Deno ? "deno" : "node";

/** Every runtime a cross-runtime test spawns. */
export const RUNTIMES: Runtime[] = ["deno", "node", "bun"];

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, whether this runs from test/ or from dist/test/. */
export const root: string = here.endsWith(join("dist", "test")) ? join(here, "..", "..") : join(here, "..");

let counter = 0;
const created = new Set<string>();

// A runner that checks for its own suites' leftovers while other suites run
// beside it (scripts/aarch64.mjs) names them apart: /wshm-test-<run tag>-...
const runTag = process.env.WSHM_TEST_SEGMENT_TAG ? `${process.env.WSHM_TEST_SEGMENT_TAG}-` : "";

/** A segment name no other test or run uses; removed by `cleanup()`. */
export function uniqueName(tag: string): string {
  const random = Math.random().toString(36).slice(2, 8);
  const name = `/wshm-test-${runTag}${tag}-${process.pid}-${counter++}-${random}`;
  created.add(name);
  return name;
}

/** Removes every segment named by `uniqueName` in this process that still exists. */
export function cleanup(): void {
  for (const name of created) {
    const path = `/dev/shm${name}`;
    if (existsSync(path)) unlinkSync(path);
  }
  created.clear();
}

/** The command line that runs `test/fixtures/<fixture>.ts` under `rt`. */
export function fixtureCommand(rt: Runtime, fixture: string, args: string[]): [string, string[]] {
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  if (rt === "deno") {
    return [bin("deno"), ["run", "-A", "--quiet", join(root, "test", "fixtures", `${fixture}.ts`), ...args]];
  }
  if (rt === "bun") return [bin("bun"), ["run", join(root, "test", "fixtures", `${fixture}.ts`), ...args]];
  return ["node", [join(root, "dist", "test", "fixtures", `${fixture}.js`), ...args]];
}

/** How a spawned process ended, with everything it printed. */
export interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** A running child process (a fixture, the CLI, ...). */
export interface Child {
  pid: number;
  /** Resolves when it exits, with everything it printed. */
  done: Promise<Run>;
  /** Resolves with the first stdout line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Resolves with the whole stdout once it matches. */
  output(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * Starts `command argv` in the repository; a watchdog kills it after
 * `timeoutMs`. With `input`, that is written to its stdin, which is then
 * closed. `label` names it in error messages.
 */
export function startProcess(
  command: string,
  argv: string[],
  options: { label: string; input?: string; env?: Record<string, string>; timeoutMs?: number },
): Child {
  const child = spawn(command, argv, {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  let stdout = "";
  let stderr = "";
  const listeners: Array<() => void> = [];
  child.stdout!.on("data", (d) => {
    stdout += d;
    for (const l of listeners.slice()) l();
  });
  child.stderr!.on("data", (d) => (stderr += d));
  if (options.input !== undefined) child.stdin!.end(options.input);
  const watchdog = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  let exited = false;
  const done = new Promise<Run>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(watchdog);
      exited = true;
      for (const l of listeners.slice()) l();
      resolve({ code, signal, stdout, stderr });
    });
  });
  const label = options.label;
  // Resolves with what `match` finds in stdout, rechecked on every chunk and at exit.
  const waitFor = (match: () => string | undefined, pattern: RegExp, timeoutMs: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = match();
        if (found !== undefined) {
          finish();
          resolve(found);
        } else if (exited || child.exitCode !== null || child.signalCode !== null) {
          finish();
          reject(new Error(`${label} exited before printing ${pattern}:\n${stdout}\n${stderr}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`${label} printed no ${pattern} within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        const i = listeners.indexOf(check);
        if (i >= 0) listeners.splice(i, 1);
      };
      listeners.push(check);
      check();
    });
  return {
    pid: child.pid!,
    done,
    // process.kill, not child.kill: Deno's child_process reports a child it
    // signalled as killed by that signal even when it handled it and exited 0.
    kill: (signal = "SIGTERM") => {
      try {
        process.kill(child.pid!, signal);
      } catch {
        // Exited already.
      }
    },
    line: (pattern, timeoutMs = 30_000) =>
      waitFor(() => stdout.split("\n").find((l) => pattern.test(l)), pattern, timeoutMs),
    output: (pattern, timeoutMs = 30_000) =>
      waitFor(() => (pattern.test(stdout) ? stdout : undefined), pattern, timeoutMs),
  };
}

/** Starts a fixture under `rt`; a watchdog kills it after `timeoutMs`. */
export function startFixture(rt: Runtime, fixture: string, args: string[] = [], timeoutMs = 60_000): Child {
  const [command, argv] = fixtureCommand(rt, fixture, args);
  return startProcess(command, argv, { label: `${fixture} (${rt})`, timeoutMs });
}

/** Runs a fixture to completion and insists that it exits 0. */
export async function runFixture(
  rt: Runtime,
  fixture: string,
  args: string[] = [],
  timeoutMs = 60_000,
): Promise<string> {
  const result = await startFixture(rt, fixture, args, timeoutMs).done;
  if (result.code !== 0) {
    throw new Error(
      `${fixture} under ${rt} exited with ${
        result.code ?? result.signal
      }:\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Rejects if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asserts that `fn` throws a WshmError with `code`. */
export function throwsCode(fn: () => unknown, code: string, what = "call"): void {
  try {
    fn();
  } catch (error) {
    // deno-lint-ignore no-explicit-any
    const e = error as any;
    if (e?.name === "WshmError" && e.code === code) return;
    throw new Error(`${what}: expected WshmError ${code}, got ${e?.name} ${e?.code}: ${e?.message}`);
  }
  throw new Error(`${what}: expected WshmError ${code}, but it did not throw`);
}

/** The segment offset of the object `name` (from the directory), for tests that corrupt it on purpose. */
export function offsetOf(
  segment: { objects(): Array<{ name: string; offset: number }> },
  name: string,
): number {
  const found = segment.objects().find((o) => o.name === name);
  if (found === undefined) throw new Error(`no object "${name}" in the segment`);
  return found.offset;
}
