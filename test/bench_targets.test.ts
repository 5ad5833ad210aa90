// The verdicts of issue 10's targets (bench/_targets.ts), on rows made up
// here: what a target is judged on, when it is not judged at all, what a row
// carries to `wshm bench --json`, and what is printed. Runtime-independent:
// run once.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { judgeBytes, judgeLatency, printVerdicts, type Unjudged, type Verdict } from "../bench/_targets.ts";
import type { Row } from "../bench/lib.ts";

const test = suite("Benchmark targets");

const row = (name: string, median: number): Row => ({
  bench: "channel",
  runtime: "node",
  case: name,
  unit: "ns",
  median,
});

/** What printVerdicts prints, line by line. */
function printed(verdicts: Array<Verdict | Unjudged | undefined>, json: boolean): string[] {
  const lines: string[] = [];
  const log = console.log;
  console.log = (line: string) => lines.push(line);
  try {
    printVerdicts(verdicts, json, "node");
  } finally {
    console.log = log;
  }
  return lines;
}

test("a time ratio is the row's median over the baseline's; at the limit it is met, past it missed", () => {
  const base = row("baseline: C", 100);
  const atLimit = judgeLatency("at most 1.5x", row("channel", 150), base, { atMost: 1.5 })!;
  assert.is(atLimit.value, 1.5);
  assert.ok(atLimit.met);
  const past = judgeLatency("at most 1.5x", row("channel", 151), base, { atMost: 1.5 })!;
  assert.not.ok(past.met);
  assert.is(past.measure, "time ratio");
  assert.is(past.vs, "baseline: C");
});

test("a speed-up is the baseline's median over the row's", () => {
  const v = judgeLatency("3x faster", row("park", 10), row("socket", 25), { fasterBy: 3 })!;
  assert.is(v.value, 2.5);
  assert.not.ok(v.met);
  assert.ok(judgeLatency("3x faster", row("park", 8), row("socket", 25), { fasterBy: 3 })!.met);
});

test("paired rounds: the median of the rounds' ratios is judged, not the ratio of the medians", () => {
  // Medians 600 against 150 would read 4x; each round's pair reads 1.2x, 1.4x and 5x.
  const v = judgeLatency("at most 1.5x", row("spin", 600), row("C spin", 150), { atMost: 1.5 }, [
    1.2,
    1.4,
    5,
  ])!;
  assert.is(v.value, 1.4);
  assert.ok(v.met);
  assert.ok(v.paired);
  assert.match(printed([v], false)[0], /the median of each round's pair/);
  // No pairs (the baseline was left out of the rounds): back to the medians.
  const plain = judgeLatency("at most 1.5x", row("spin", 600), row("C spin", 150), { atMost: 1.5 }, [])!;
  assert.is(plain.value, 4);
  assert.is(plain.paired, undefined);
});

test("a row judged by two targets carries both: verdict is the first, verdicts every one", () => {
  const park = row("park, one CPU", 10);
  judgeLatency("at most 1.3x the C futex", park, row("C futex", 8), { atMost: 1.3 });
  judgeLatency("3x faster than the socket", park, row("socket", 20), { fasterBy: 3 });
  assert.is(park.verdict?.target, "at most 1.3x the C futex");
  assert.equal(park.verdicts?.map((v) => [v.target, v.met]), [
    ["at most 1.3x the C futex", true],
    ["3x faster than the socket", false],
  ]);
});

test("a target whose rows are missing is not judged at all, never met", () => {
  assert.is(judgeLatency("x", undefined, row("base", 1), { atMost: 2 }), undefined);
  assert.is(judgeLatency("x", row("case", 1), undefined, { atMost: 2 }), undefined);
  assert.equal(printed([undefined], false), []);
});

test("an unjudged target prints NOT JUDGED with its reason, and judged: false in JSON", () => {
  const unjudged: Unjudged = { target: "park at most 1.3x", unjudged: "unpinned" };
  assert.equal(printed([unjudged], false), ["  target NOT JUDGED park at most 1.3x: unpinned"]);
  assert.equal(JSON.parse(printed([unjudged], true)[0]), {
    target: "park at most 1.3x",
    judged: false,
    reason: "unpinned",
    runtime: "node",
  });
});

test("MET and MISSED lines, and the JSON line of a judged target", () => {
  const met = judgeLatency("at most 2x", row("a", 3), row("b", 2), { atMost: 2 })!;
  const missed = judgeLatency("at most 1x", row("c", 3), row("d", 2), { atMost: 1 })!;
  const lines = printed([met, missed], false);
  assert.match(lines[0], /^ {2}target MET {4}at most 2x: a is 1\.50x the time of \(limit 2x\) b$/);
  assert.match(lines[1], /^ {2}target MISSED at most 1x: c is 1\.50x/);
  const json = JSON.parse(printed([met], true)[0]);
  assert.equal([json.target, json.met, json.value, json.limit, json.runtime], [
    "at most 2x",
    true,
    1.5,
    2,
    "node",
  ]);
});

test("bytes per message are met only at or under the limit and only if the positive controls showed", () => {
  assert.ok(judgeBytes("at most 128 B", row("async", 128), 128, true)!.met);
  assert.not.ok(judgeBytes("at most 128 B", row("async", 129), 128, true)!.met);
  assert.not.ok(judgeBytes("at most 128 B", row("async", 0), 128, false)!.met);
});

test.run();
