// Types of build.mjs, for benchmark scripts written in TypeScript.

/** One result line of a C baseline. */
export interface CResult {
  bench: string;
  runtime: "c";
  case: string;
  unit: "ns";
  median: number;
  p50: number;
  p99: number;
  min: number;
  mean: number;
  ops: number;
  total_ns: number;
  /** Set by cBaselines: the median of each run. */
  rounds?: number[];
}

export const DEFAULT_OUT_DIR: string;

/** Compiles every bench/c/*.c with gcc -O2; returns each program's path by name. */
export function buildC(outDir?: string): Record<string, string>;

/** Runs a built program and resolves with the JSON row it prints. */
export function runC(
  path: string,
  args: Array<string | number>,
  options?: { timeoutMs?: number; env?: Record<string, string | undefined> },
): Promise<CResult>;

/** The baselines of issues 3 and 4 as [program, args]. */
export function baselineCases(
  sizes?: { iterations?: number; spinIterations?: number; spinLimit?: number; pin?: string },
): Array<[string, Array<string | number>]>;

/** Builds and runs every baseline `runs` times, interleaved; one row per case. */
export function cBaselines(options?: {
  runs?: number;
  outDir?: string;
  env?: Record<string, string | undefined>;
  iterations?: number;
  spinIterations?: number;
  spinLimit?: number;
}): Promise<CResult[]>;

/** The Debian packages that provide RouDi and iceoryx's C binding (for iceoryx_*.c). */
export const ICEORYX_PACKAGES: string[];

/** gcc flags for iceoryx's C binding, or why it cannot be built. */
export function iceoryxFlags(): { cflags: string[]; libs: string[]; missing?: undefined } | {
  missing: string;
  cflags?: undefined;
  libs?: undefined;
};
