// Small measuring tools shared by the benchmarks. Benchmarks report medians
// of interleaved rounds: on a shared, noisy machine a single run means little,
// and interleaving spreads the noise evenly over what is compared.

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
