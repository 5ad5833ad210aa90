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

/** A segment name no other test or run uses; removed by `cleanup()`. */
export function uniqueName(tag: string): string {
  const random = Math.random().toString(36).slice(2, 8);
  const name = `/wshm-test-${tag}-${process.pid}-${counter++}-${random}`;
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

/** A running fixture process. */
export interface Child {
  pid: number;
  /** Resolves when it exits, with everything it printed. */
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>;
  /** Resolves with the first stdout line that matches. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

/** Starts a fixture under `rt`; a watchdog kills it after `timeoutMs`. */
export function startFixture(rt: Runtime, fixture: string, args: string[] = [], timeoutMs = 60_000): Child {
  const [command, argv] = fixtureCommand(rt, fixture, args);
  const child = spawn(command, argv, {
    cwd: root,
    stdio: ["pipe", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1" },
  });
  let stdout = "";
  let stderr = "";
  const listeners: Array<() => void> = [];
  child.stdout!.on("data", (d) => {
    stdout += d;
    for (const l of listeners.slice()) l();
  });
  child.stderr!.on("data", (d) => (stderr += d));
  const watchdog = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
    (resolve) => {
      child.on("close", (code, signal) => {
        clearTimeout(watchdog);
        for (const l of listeners.slice()) l();
        resolve({ code, signal, stdout, stderr });
      });
    },
  );
  let exited = false;
  done.then(() => (exited = true));
  return {
    pid: child.pid!,
    done,
    kill: (signal = "SIGTERM") => child.kill(signal),
    line(pattern, lineTimeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = stdout.split("\n").find((l) => pattern.test(l));
          if (found !== undefined) {
            finish();
            resolve(found);
          } else if (exited || child.exitCode !== null || child.signalCode !== null) {
            finish();
            reject(new Error(`${fixture} (${rt}) exited before printing ${pattern}:\n${stdout}\n${stderr}`));
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `${fixture} (${rt}) printed no ${pattern} within ${lineTimeoutMs} ms:\n${stdout}\n${stderr}`,
            ),
          );
        }, lineTimeoutMs);
        const finish = () => {
          clearTimeout(timer);
          const i = listeners.indexOf(check);
          if (i >= 0) listeners.splice(i, 1);
        };
        listeners.push(check);
        check();
      });
    },
  };
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
