// Small measuring tools shared by the benchmarks. Benchmarks report medians
// of interleaved rounds: on a shared, noisy machine a single run means little,
// and interleaving spreads the noise evenly over what is compared.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { BenchRow } from "../ts/bench_row.ts";

/** The median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The p-th percentile (0..100) by nearest rank. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Nanoseconds per call of `body`, timed over `iterations` calls. */
export function nsPerOp(iterations: number, body: (iterations: number) => void): number {
  const started = performance.now();
  body(iterations);
  return ((performance.now() - started) * 1e6) / iterations;
}

/** A named measurement: a function returning nanoseconds per operation for one round. */
export interface Case {
  name: string;
  round: () => number;
}

/**
 * Runs every case once per round, `rounds` times, interleaved (a b c a b c ...),
 * after one warm-up round; returns the median ns/op of each case.
 */
export function interleaved(cases: Case[], rounds: number): Map<string, number[]> {
  for (const c of cases) c.round();
  const results = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of cases) results.get(c.name)!.push(c.round());
  }
  return results;
}

/** Arguments of the form --name value or --flag. */
export function flag(name: string, fallback?: string): string | undefined {
  const args = process.argv;
  const i = args.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const next = args[i + 1];
  return next === undefined || next.startsWith("--") ? "true" : next;
}

// ── Two-process benchmarks: peers, clean-up, heap probes, result rows ──────
// Used by channel.ts, ring.ts, zero_copy.ts and allocation.ts. A peer is a
// separate process of the same runtime (bench/NAME_peer.ts) that prints
// "ready" once it is set up; everything a run creates (peers, segments,
// socket files) is registered with atExit() so that an error, SIGINT or
// SIGTERM removes it too.

// deno-lint-ignore no-explicit-any
const anyGlobal = globalThis as any;

/** A JavaScript runtime the benchmarks run under. */
export type Runtime = "deno" | "node" | "bun";

/** The runtime running this script. */
export const runtime: Runtime = anyGlobal.Bun ? "bun" : anyGlobal.Deno ? "deno" : "node";

const cleanups = new Set<() => void>();
let hooked = false;

function runCleanups(): void {
  for (const undo of [...cleanups].reverse()) {
    try {
      undo();
    } catch { /* best effort: the others still run */ }
  }
  cleanups.clear();
}

/**
 * Runs `undo` when this process exits (normally, by an uncaught error, or on
 * SIGINT/SIGTERM/SIGHUP) unless the returned function is called first, which
 * runs `undo` at once and forgets it.
 */
export function atExit(undo: () => void): () => void {
  if (!hooked) {
    hooked = true;
    process.on("exit", runCleanups);
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143], ["SIGHUP", 129]] as const) {
      process.on(signal, () => {
        runCleanups();
        process.exit(code);
      });
    }
  }
  let done = false;
  const once = () => {
    if (done) return;
    done = true;
    cleanups.delete(once);
    undo();
  };
  cleanups.add(once);
  return once;
}

/**
 * V8 flags under which a process can measure its own allocations: gc()
 * exposed, and a young generation of 64 MiB, so that a measured window of
 * messages that allocates less than that triggers no scavenge and the heap
 * simply grows by what was allocated.
 */
export const V8_HEAP_FLAGS = ["--expose-gc", "--min-semi-space-size=64", "--max-semi-space-size=64"];

/**
 * The command that runs bench/NAME.ts as a process of this runtime: Deno and
 * Bun run the TypeScript, Node the tsc output in dist/bench/. With `heap`,
 * the process can use HeapProbe (V8: V8_HEAP_FLAGS; Bun: JSC logs every
 * collection on stderr).
 */
export function benchCommand(
  name: string,
  options: { heap?: boolean; runtime?: Runtime } = {},
): { command: string; args: string[]; env: Record<string, string> } {
  const target = options.runtime ?? runtime;
  // Another runtime than this one: Node needs the tsc output, the others run the sources.
  const file = target === runtime
    ? fileURLToPath(new URL(`./${name}.${import.meta.url.endsWith(".ts") ? "ts" : "js"}`, import.meta.url))
    : target === "node"
    ? join(repositoryRoot, "dist", "bench", `${name}.js`)
    : join(repositoryRoot, "bench", `${name}.ts`);
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  const executable = target === runtime
    ? (runtime === "deno" ? anyGlobal.Deno.execPath() : process.execPath)
    : target === "node"
    ? "node"
    : join(repositoryRoot, "node_modules", ".bin", target);
  if (target === "deno") {
    const flags = options.heap ? [`--v8-flags=${V8_HEAP_FLAGS.join(",")}`] : [];
    return { command: executable, args: ["run", "-A", "--quiet", ...flags, file], env };
  }
  if (target === "node") {
    return { command: executable, args: [...(options.heap ? V8_HEAP_FLAGS : []), file], env };
  }
  if (options.heap) env.BUN_JSC_logGC = "1";
  return { command: executable, args: [file], env };
}

/** A running peer process. */
export interface Peer {
  readonly pid: number;
  /** The first stdout line (seen already or to come) that matches, or a rejection if the peer exits or `timeoutMs` runs out. */
  line(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Its exit code, once it exits; rejects (and kills it) after `timeoutMs`. */
  exited(timeoutMs?: number): Promise<number | null>;
  /** What it wrote on stderr, if started with `captureStderr`. */
  stderr(): string;
  /** Writes to its stdin, if started with `stdin`; false if it cannot (no pipe, or it exited). */
  write(text: string): boolean;
  /** SIGKILL, if it still runs. Idempotent. */
  kill(): void;
}

/**
 * Starts bench/NAME.ts with `args` as a separate process and waits until it
 * prints "ready". The peer is killed when this process exits, whatever the
 * reason (see atExit).
 */
export async function startPeer(
  name: string,
  args: Array<string | number>,
  options: {
    heap?: boolean;
    captureStderr?: boolean;
    readyTimeoutMs?: number;
    /** Run it under this runtime (default: this script's). */
    runtime?: Runtime;
    /** Give it a stdin pipe (for `Peer.write`); it closes when this process exits, however it exits. */
    stdin?: boolean;
    /** Pin it (every thread) to this CPU, with taskset (see {@linkcode pinningAvailable}). */
    cpu?: number;
  } = {},
): Promise<Peer> {
  const run = benchCommand(name, { heap: options.heap, runtime: options.runtime });
  placeThisProcess();
  const cpu = options.cpu ?? (placement === "same" ? 0 : placement === "split" ? 1 : undefined);
  const [command, prefix] = cpu === undefined
    ? [run.command, run.args]
    : ["taskset", ["-c", String(cpu), run.command, ...run.args]];
  const env = run.env;
  const child: ChildProcess = spawn(command, [...prefix, ...args.map(String)], {
    stdio: [options.stdin ? "pipe" : "ignore", "pipe", options.captureStderr ? "pipe" : "inherit"],
    env,
  });
  // A peer that exits first must not turn a write into an uncaught EPIPE here.
  child.stdin?.on("error", () => {});
  const lines: string[] = [];
  let partial = "";
  let errors = "";
  let code: number | null | undefined;
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => (errors += chunk));
  const kill = atExit(() => {
    if (code === undefined) child.kill("SIGKILL");
  });
  child.on("exit", (exitCode, signal) => {
    code = exitCode ?? (signal ? -1 : null);
    kill();
    notify();
  });
  child.on("error", () => {
    code = -1;
    notify();
  });
  const waitFor = <T>(found: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = found();
        if (value !== undefined) finish(() => resolve(value));
        else if (code !== undefined) {
          finish(() =>
            reject(
              new Error(
                `peer ${name} exited (${code}) before ${what}${errors ? `: ${errors.slice(-500)}` : ""}`,
              ),
            )
          );
        }
      };
      const timer = setTimeout(
        () => finish(() => reject(new Error(`peer ${name}: no ${what} within ${timeoutMs} ms`))),
        timeoutMs,
      );
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });
  const peer: Peer = {
    pid: child.pid ?? -1,
    line: (pattern, timeoutMs = 60_000) =>
      waitFor(() => lines.find((l) => pattern.test(l)), `a line matching ${pattern}`, timeoutMs),
    exited: async (timeoutMs = 60_000) => {
      try {
        return await waitFor(() => (code === undefined ? undefined : code), "exit", timeoutMs);
      } catch (error) {
        kill();
        throw error;
      }
    },
    stderr: () => errors,
    write: (text) => {
      if (child.stdin === null || code !== undefined) return false;
      child.stdin.write(text);
      return true;
    },
    kill,
  };
  try {
    await peer.line(/^ready\b/, options.readyTimeoutMs ?? 60_000);
  } catch (error) {
    kill();
    throw error;
  }
  return peer;
}

/**
 * Measures what this process allocates on the JavaScript heap while it
 * handles a window of messages. Under V8 (a process started with
 * V8_HEAP_FLAGS): a full gc, then heap used plus external memory read at
 * start(), at every lap() and at stop(); the young generation is big enough
 * that a lap normally sees no collection, so each difference is what that
 * lap allocated, and the median lap (laps of equal size) shrugs off one that
 * a collection did shrink. Under Bun (JavaScriptCore, started with
 * BUN_JSC_logGC=1): JSC keeps no readable allocation counter but logs every
 * collection with the heap size before it; the window is bracketed by
 * markers on stderr and full collections, and the parent reads the log
 * (parseHeapReport).
 */
export class HeapProbe {
  /** How many laps a window is cut into. */
  static readonly LAPS = 10;
  readonly #laps: number[] = [];

  static #gc(): void {
    if (runtime === "bun") {
      anyGlobal.Bun.gc(true);
      return;
    }
    if (typeof anyGlobal.gc !== "function") {
      throw new Error(
        "HeapProbe needs gc(): start the process with V8_HEAP_FLAGS (benchCommand(name, { heap: true }))",
      );
    }
    anyGlobal.gc();
  }

  static #used(): number {
    const usage = process.memoryUsage();
    return usage.heapUsed + usage.external;
  }

  start(): void {
    HeapProbe.#gc();
    if (runtime === "bun") console.error("HEAP-START");
    else this.#laps.push(HeapProbe.#used());
  }

  /** Marks the end of one lap and the start of the next (laps should be of equal size). */
  lap(): void {
    if (runtime !== "bun") this.#laps.push(HeapProbe.#used());
  }

  /** Ends the window of `messages` in all; returns the line to print for parseHeapReport. */
  stop(messages: number): string {
    if (runtime === "bun") {
      console.error("HEAP-END");
      HeapProbe.#gc();
      return `heap jsc ${messages}`;
    }
    this.#laps.push(HeapProbe.#used());
    const deltas = this.#laps.slice(1).map((used, i) => used - this.#laps[i]);
    return `heap v8 ${messages} ${deltas.join(" ")}`;
  }
}

/**
 * What a HeapProbe measured: bytes allocated per message. V8: the median
 * lap's, and `collections` = laps whose heap shrank (a collection ran);
 * JSC: the whole window's, a lower bound when JSC collected inside it.
 */
export interface HeapReport {
  bytesPerMessage: number;
  bytes: number;
  messages: number;
  lowerBound: boolean;
  collections: number;
}

/** Reads a HeapProbe's line (and, under Bun, the peer's stderr with JSC's collection log). */
export function parseHeapReport(line: string, stderr = ""): HeapReport {
  const [, engine, messageText, ...rest] = line.trim().split(/\s+/);
  const messages = Number(messageText);
  if (engine === "v8") {
    const deltas = rest.map(Number);
    const bytes = deltas.reduce((a, b) => a + b, 0);
    const perLap = messages / deltas.length;
    return {
      bytes,
      messages,
      bytesPerMessage: median(deltas) / perLap,
      lowerBound: false,
      collections: deltas.filter((d) => d < 0).length,
    };
  }
  // JSC: "Full sweep: A => Bkb" ends the full collection before the window;
  // inside it, "bytes allocated this cycle: N" precedes each eden collection;
  // the first "START <scope> Skb" after HEAP-END is the heap size before the
  // closing collection.
  const log = stderr.split("\n");
  const start = log.lastIndexOf("HEAP-START");
  const end = log.indexOf("HEAP-END", start);
  if (start < 0 || end < 0) throw new Error("no HEAP-START/HEAP-END markers in the peer's stderr");
  let after = -1;
  for (let i = start - 1; i >= 0 && after < 0; i--) {
    const sweep = /Full sweep: \d+kb => (\d+)kb/.exec(log[i]);
    if (sweep) after = Number(sweep[1]) * 1024;
  }
  let edenBytes = 0;
  let collections = 0;
  for (let i = start + 1; i < end; i++) {
    const eden = /bytes allocated this cycle: (\d+)/.exec(log[i]);
    if (eden) {
      edenBytes += Number(eden[1]);
      collections++;
    }
  }
  let before = -1;
  for (let i = end + 1; i < log.length && before < 0; i++) {
    const s = /START \S+ (\d+)kb/.exec(log[i]);
    if (s) before = Number(s[1]) * 1024;
  }
  if (after < 0 || before < 0) {
    throw new Error("JSC's collection log is missing around the window (BUN_JSC_logGC=1?)");
  }
  const bytes = collections === 0 ? Math.max(0, before - after) : edenBytes;
  return { bytes, messages, bytesPerMessage: bytes / messages, lowerBound: collections > 0, collections };
}

/** One result: a JSON line of the `wshm bench` contract (ts/bench_row.ts), plus any extra fields. */
export interface Row extends BenchRow {
  [extra: string]: unknown;
}

/**
 * A latency row from the samples of each round (one array per round, in
 * `unit`): median = the median of the rounds' medians; p50/p90/p99 over
 * every sample; `rounds` = each round's median.
 */
export function latencyRow(
  bench: string,
  name: string,
  unit: string,
  rounds: number[][],
  extra: Partial<Row> = {},
): Row {
  const all = rounds.flat();
  const medians = rounds.map((r) => median(r));
  return {
    bench,
    runtime,
    case: name,
    unit,
    median: median(medians),
    p50: percentile(all, 50),
    p90: percentile(all, 90),
    p99: percentile(all, 99),
    rounds: medians.map((m) => Number(m.toPrecision(4))),
    ...extra,
  };
}

/** The row named by `row.baseline` (a case name), if any. */
function baselineOf(row: Row, rows: Row[]): Row | undefined {
  if (typeof row.baseline !== "string") return undefined;
  return rows.find((r) => r.case === row.baseline && r.unit === row.unit && r.runtime === row.runtime);
}

/** How many times better `row` is than `base` (> 1: better): times compare inversely, rates (unit ending /s) directly. */
export function ratio(row: Row, base: Row): number {
  return /\/s$/.test(row.unit) ? row.median / base.median : base.median / row.median;
}

/** Prints rows: JSON lines with `json`, else a table with each row's ratio against its named baseline. */
export function printRows(rows: Row[], json: boolean): void {
  if (json) {
    for (const row of rows) console.log(JSON.stringify(row));
    return;
  }
  const value = (v: number | undefined, unit: string) => {
    if (v === undefined) return "-";
    if (unit === "ns") {
      return v >= 1e5 ? `${(v / 1000).toFixed(0)} µs` : `${(v / 1000).toFixed(v >= 1e4 ? 1 : 2)} µs`;
    }
    // Rates as `wshm bench` shows them (cli/format.ts formatRate): 850, 42.0k, 11.43M.
    if (/\/s$/.test(unit)) {
      const scaled = v >= 999_950
        ? `${(v / 1e6).toFixed(2)}M`
        : v >= 999.5
        ? `${(v / 1e3).toFixed(1)}k`
        : v.toFixed(0);
      return `${scaled} ${unit}`;
    }
    return `${v.toFixed(2)} ${unit}`;
  };
  const table = rows.map((row) => {
    const base = baselineOf(row, rows);
    const r = base ? ratio(row, base) : undefined;
    const vs = row.baseline === true
      ? "(baseline)"
      : r === undefined
      ? ""
      : `${r >= 1 ? `${r.toFixed(2)}x better` : `${(1 / r).toFixed(2)}x worse`} than ${base!.case}`;
    return [row.case, value(row.median, row.unit), value(row.p99, row.unit), vs];
  });
  const widths = [0, 1, 2].map((i) =>
    Math.max(...table.map((t) => t[i].length), ["case", "median", "p99"][i].length)
  );
  console.log(`${runtime}:`);
  console.log(
    `  ${"case".padEnd(widths[0])}  ${"median".padStart(widths[1])}  ${
      "p99".padStart(widths[2])
    }  vs baseline`,
  );
  for (const t of table) {
    console.log(
      `  ${t[0].padEnd(widths[0])}  ${t[1].padStart(widths[1])}  ${t[2].padStart(widths[2])}  ${t[3]}`,
    );
  }
}

/** Prints {"progress": fraction} for `wshm bench` (JSON mode only). */
export function progress(json: boolean, fraction: number): void {
  if (json) console.log(JSON.stringify({ progress: Math.min(1, Math.max(0, fraction)) }));
}

const benchDir = fileURLToPath(new URL(".", import.meta.url)).replace(/[/\\]$/, "");
/** The repository root, whether the benchmarks run from bench/ (Deno, Bun) or dist/bench/ (Node). */
export const repositoryRoot: string = benchDir.endsWith(join("dist", "bench"))
  ? join(benchDir, "..", "..")
  : join(benchDir, "..");

/** bench/c/build.mjs, the C baselines' builder, from the sources whichever copy of bench/ runs. */
export function loadCBuild(): Promise<typeof import("./c/build.mjs")> {
  return import(pathToFileURL(join(repositoryRoot, "bench", "c", "build.mjs")).href);
}

/** True if this machine has two CPUs or more and util-linux's taskset, so that the pinned cases can run. */
export function pinningAvailable(): boolean {
  return availableParallelism() >= 2 && spawnSync("taskset", ["-p", String(process.pid)]).status === 0;
}

/**
 * Pins this process, every thread of it, to `cpu` (taskset -a -p), and
 * returns the function that puts back the CPUs it had before.
 */
export function pinThisProcess(cpu: number): () => void {
  const taskset = (...args: string[]) => {
    const run = spawnSync("taskset", args, { encoding: "utf8" });
    if (run.status !== 0) throw new Error(`taskset ${args.join(" ")}: ${run.stderr || run.error?.message}`);
    return run.stdout;
  };
  // "pid 123's current affinity list: 0,1"
  const before = taskset("-c", "-p", String(process.pid)).trim().split(": ").pop()!;
  taskset("-a", "-c", "-p", String(cpu), String(process.pid));
  return () => {
    taskset("-a", "-c", "-p", before, String(process.pid));
  };
}

/**
 * WSHM_BENCH_PIN (environment), read as the C baselines read it
 * (bench/c/common.h): unset or "none" leaves placement to the scheduler;
 * "same" puts this process and every peer on CPU 0; "split" this process on
 * CPU 0 and the peers on CPU 1. A parked hand-off is bimodal without pinning
 * on this VM (a context switch on one CPU, or a wake-up of the other, idle
 * vCPU), so a parked case and its baseline are only comparable in one regime.
 */
export const placement: "none" | "same" | "split" = (() => {
  const mode = process.env.WSHM_BENCH_PIN || "none";
  if (mode !== "none" && mode !== "same" && mode !== "split") {
    console.error(`WSHM_BENCH_PIN must be none, same or split, not ${mode}`);
    process.exit(2);
  }
  return mode;
})();

let placed = false;
/** Applies WSHM_BENCH_PIN to this process, once (before its first peer starts). */
function placeThisProcess(): void {
  if (placement === "none" || placed) return;
  placed = true;
  // Checked here, in the harness, not when a peer (pinned to one CPU already) loads this module.
  if (!pinningAvailable()) {
    console.error(`WSHM_BENCH_PIN=${placement} needs two CPUs and taskset`);
    process.exit(2);
  }
  pinThisProcess(0);
}
