/**
 * One result row of the `wshm bench` JSON contract (docs/cli.md): what a
 * benchmark script in bench/ prints, one JSON object a line, and what
 * `wshm bench --json` reports back. Declared here, in the lowest TypeScript
 * layer, because both sides import it: the scripts (bench/lib.ts) and the
 * CLI (cli/bench.ts), and cli/ may not import bench/. Types only: nothing of
 * the library's public surface (ts/mod.ts does not export it).
 *
 * @example
 * ```ts
 * import type { BenchRow } from "./bench_row.ts";
 * const row: BenchRow = { bench: "ring", runtime: "deno", case: "64 B", unit: "ns", median: 120 };
 * console.log(JSON.stringify(row));
 * ```
 *
 * @module
 */

/** One result: a JSON line of a benchmark script under `--json`. */
export interface BenchRow {
  /** The benchmark (a script may print rows of several). */
  bench: string;
  /** "deno", "node" or "bun": the runtime that measured. */
  runtime: string;
  /** What was measured. */
  case: string;
  /** The unit of median and the percentiles ("ns", "msg/s", ...: a unit ending in /s is a rate). */
  unit: string;
  median: number;
  p50?: number;
  p90?: number;
  p99?: number;
  /** true: the row others compare with; a case name: the row this one compares with. */
  baseline?: boolean | string;
  /** Set on a row that a performance target judges (bench/_targets.ts): met or missed, with the measured ratio. */
  verdict?: BenchVerdict;
  /** Every target judged on this row, when more than one is (`verdict` is the first of them). */
  verdicts?: BenchVerdict[];
}

/** A performance target judged on a row: met or missed, with the measured value and the limit. */
export interface BenchVerdict {
  target: string;
  met: boolean;
  value: number;
  limit: number;
  measure: string;
}
