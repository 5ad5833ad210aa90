// @ts-check
// Latency statistics shared by the Deno CLI and the demo's Node and Bun
// clients (plain JavaScript, so that every runtime can load it unbuilt).

/**
 * @typedef {object} Percentiles
 * @property {number} count
 * @property {number} min
 * @property {number} p50
 * @property {number} p90
 * @property {number} p99
 * @property {number} p999
 * @property {number} max
 * @property {number} mean
 */

/**
 * Nearest-rank percentiles of a sample (any unit); NaN for an empty sample.
 * @param {ArrayLike<number>} sample
 * @returns {Percentiles}
 */
export function percentiles(sample) {
  const sorted = Float64Array.from(sample).sort();
  const n = sorted.length;
  /** @param {number} p */
  const at = (p) => (n === 0 ? NaN : sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]);
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
