// Latency statistics shared by the Deno CLI and the demo's Node and Bun
// clients (cli/peer.ts; Node runs its build in dist/cli/).

/** Nearest-rank percentiles of a sample, in the sample's unit. */
export interface Percentiles {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

/**
 * Nearest-rank percentiles of a sample (any unit); NaN for an empty sample.
 *
 * @example
 * ```ts
 * import { percentiles } from "./stats.ts";
 * percentiles([3, 1, 2]).p50; // 2
 * ```
 */
export function percentiles(sample: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(sample).sort();
  const n = sorted.length;
  const at = (p: number) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]);
  let sum = 0;
  for (const v of sorted) sum += v;
  return {
    count: n,
    min: n ? sorted[0] : NaN,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    p999: at(0.999),
    max: n ? sorted[n - 1] : NaN,
    mean: n ? sum / n : NaN,
  };
}
