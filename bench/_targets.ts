// The targets of issue 10 (performance), judged from rows measured in the
// same run: each verdict names its row, the baseline row it is compared
// with, the measured ratio and the limit. A script attaches the verdict to
// its row (`row.verdict`, which `wshm bench --json` carries through) and
// prints it: as a {"target": ...} line with --json, else as a MET / MISSED
// line under its table. A target whose rows are missing from the run (e.g.
// left out with --only) is not judged at all, never reported as met; one
// whose rows were measured in conditions that cannot decide it is printed as
// NOT JUDGED with the reason (an `Unjudged`), never as met or missed.

import { median, type Row } from "./lib.ts";

/** One target of issue 10, judged. */
export interface Verdict {
  target: string;
  met: boolean;
  /** The row judged and the row it is compared with. */
  case: string;
  vs: string;
  /** How the two compare: "time ratio" (row / baseline, lower is better), "speed-up" (baseline / row), "rate ratio" (row / baseline). */
  measure: "time ratio" | "speed-up" | "rate ratio" | "bytes per message";
  value: number;
  limit: number;
  /** The value is the median of per-round ratios, each round's row against the baseline run beside it. */
  paired?: boolean;
}

/** A target the run cannot decide, and why (printed as NOT JUDGED; no row carries a verdict for it). */
export interface Unjudged {
  target: string;
  unjudged: string;
}

/**
 * A latency row against its baseline: `atMost` bounds row / baseline (e.g.
 * 1.5: at most 1.5x the baseline's time), `fasterBy` asks baseline / row to
 * be at least that (e.g. 3: three times faster). With `pairedRatios` (row /
 * baseline of each round, each measured side by side), the time ratio judged
 * is their median instead of the ratio of the two rows' medians.
 */
export function judgeLatency(
  target: string,
  row: Row | undefined,
  base: Row | undefined,
  bound: { atMost: number } | { fasterBy: number },
  pairedRatios?: number[],
): Verdict | undefined {
  if (row === undefined || base === undefined) return undefined;
  if ("atMost" in bound) {
    const paired = pairedRatios !== undefined && pairedRatios.length > 0;
    const value = paired ? median(pairedRatios) : row.median / base.median;
    const judged = verdict(target, row, base, "time ratio", value, bound.atMost, value <= bound.atMost);
    if (paired) judged.paired = true;
    return judged;
  }
  const value = base.median / row.median;
  return verdict(target, row, base, "speed-up", value, bound.fasterBy, value >= bound.fasterBy);
}

/** A rate row (msgs/s) against its baseline: row / baseline at least `atLeast`. */
export function judgeRate(
  target: string,
  row: Row | undefined,
  base: Row | undefined,
  atLeast: number,
): Verdict | undefined {
  if (row === undefined || base === undefined) return undefined;
  const value = row.median / base.median;
  return verdict(target, row, base, "rate ratio", value, atLeast, value >= atLeast);
}

/** An allocation row (B/msg): at most `limit`, and only if the positive controls showed their copies. */
export function judgeBytes(
  target: string,
  row: Row | undefined,
  limit: number,
  controlsSeen: boolean,
): Verdict | undefined {
  if (row === undefined) return undefined;
  return verdict(
    target,
    row,
    undefined,
    "bytes per message",
    row.median,
    limit,
    controlsSeen && row.median <= limit,
  );
}

function verdict(
  target: string,
  row: Row,
  base: Row | undefined,
  measure: Verdict["measure"],
  value: number,
  limit: number,
  met: boolean,
): Verdict {
  const judged: Verdict = {
    target,
    met,
    case: row.case,
    vs: base?.case ?? "",
    measure,
    value: Number(value.toPrecision(4)),
    limit,
  };
  // A row may be judged by several targets (the parked round trip against the C futex and against the
  // socket): `verdict` keeps the first, `verdicts` every one.
  const onRow = { target, met, value: judged.value, limit, measure };
  row.verdict ??= onRow;
  row.verdicts = [...(row.verdicts ?? []), onRow];
  return judged;
}

/** Prints the verdicts: JSON lines with `json`, else one MET / MISSED line each. */
export function printVerdicts(
  verdicts: Array<Verdict | Unjudged | undefined>,
  json: boolean,
  runtime: string,
): void {
  for (const v of verdicts) {
    if (v === undefined) continue;
    if ("unjudged" in v) {
      if (json) console.log(JSON.stringify({ target: v.target, judged: false, reason: v.unjudged, runtime }));
      else console.log(`  target NOT JUDGED ${v.target}: ${v.unjudged}`);
      continue;
    }
    if (json) {
      console.log(JSON.stringify({ ...v, runtime }));
      continue;
    }
    const shown = v.measure === "time ratio"
      ? `${v.value.toFixed(2)}x the time of (limit ${v.limit}x${
        v.paired ? ", the median of each round's pair" : ""
      })`
      : v.measure === "speed-up"
      ? `${v.value.toFixed(2)}x faster than (needs ${v.limit}x)`
      : v.measure === "rate ratio"
      ? `${v.value.toFixed(2)}x the rate of (needs ${v.limit}x)`
      : `${v.value} B/msg (limit ${v.limit})`;
    console.log(
      `  target ${v.met ? "MET   " : "MISSED"} ${v.target}: ${v.case} is ${shown}${v.vs ? ` ${v.vs}` : ""}`,
    );
  }
}
