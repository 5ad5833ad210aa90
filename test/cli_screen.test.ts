// What the CLI puts on screen, checked on its formatting functions (run in
// Deno, the CLI's runtime, as a separate process), and the library calls
// issue 11 named: argument errors that carry a code, and one naming for
// giving back what `read()` handed out.

import { suite } from "uvu";
import * as assert from "uvu/assert";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Segment } from "../ts/mod.ts";
import { cleanup, root, runtime, startProcess, uniqueName, within } from "./helpers.ts";

const test = suite(`cli on screen (${runtime})`);
test.after.each(cleanup);

const deno = join(root, "node_modules", ".bin", "deno");
const cli = (file: string) => pathToFileURL(join(root, "cli", file)).href;

/** Runs `code` (a module body that prints one JSON document) under Deno; resolves to what it printed. */
async function inDeno<T>(code: string): Promise<T> {
  const child = startProcess(deno, ["eval", "--quiet", code], {
    label: "deno eval",
    input: "",
    timeoutMs: 60_000,
  });
  const run = await within(child.done, 65_000, "deno eval");
  assert.is(run.code, 0, `deno eval failed:\n${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

test("rates have one format at every size (the README's 60.0k/s)", async () => {
  const shown = await inDeno<string[]>(`
    import { formatRate } from "${cli("format.ts")}";
    console.log(JSON.stringify([850, 6192, 60000, 167612, 1234567, 999.7].map(formatRate)));
  `);
  assert.equal(shown, ["850/s", "6.2k/s", "60.0k/s", "167.6k/s", "1.23M/s", "1.0k/s"]);
});

test("--json measurements keep 6 significant digits, integers stay whole", async () => {
  const text = await inDeno<string>(`
    import { jsonText } from "${cli("format.ts")}";
    console.log(JSON.stringify(jsonText({ us: 1791.5899999999992, small: 0.000123456789, pid: 4242, ms: 1767225600123 })));
  `);
  assert.is(text, '{"us":1791.59,"small":0.000123457,"pid":4242,"ms":1767225600123}');
});

test("the bench table: about 100 columns, one central value, one number format", async () => {
  const table = await inDeno<string>(`
    import { benchTable, compare } from "${cli("bench.ts")}";
    const base = "baseline: Deno.connect unix socket round trip";
    const rows = [
      { script: "handoff", bench: "handoff", runtime: "deno", case: base, unit: "ns", median: 21000, p50: 20500, p90: 24000, p99: 48000, baseline: true },
      { script: "handoff", bench: "handoff", runtime: "deno", case: "semaphore round trip, park-only", unit: "ns", median: 2100, p50: 2050, p99: 4800 },
      { script: "ring", bench: "ring", runtime: "deno", case: "baseline: postMessage", unit: "msgs/s", median: 42000, baseline: true },
      { script: "ring", bench: "ring", runtime: "deno", case: "ring, 64 B messages", unit: "msgs/s", median: 11433365 },
    ];
    compare(rows);
    console.log(JSON.stringify(benchTable(rows)));
  `);
  const lines = table.replace(ANSI, "").split("\n");
  const widest = Math.max(...lines.map((l) => [...l].length));
  assert.ok(widest <= 110, `the table is ${widest} columns wide:\n${table}`);
  assert.match(lines[0], /^BENCH\s+RUNTIME\s+CASE\s+MEDIAN\s+P99\s+VS BASELINE$/);
  assert.not.match(lines[0], /P50/, "one central column (MEDIAN), not MEDIAN and P50");
  const all = lines.join("\n");
  assert.match(all, /11\.43M msgs\/s/, "a big rate in the one rate format");
  assert.match(all, /42\.0k msgs\/s/, "a small rate in the same format");
  assert.not.match(all, /\d,\d{3},\d{3}/, "no rate written out in full with thousands separators");
  assert.match(all, /21\.0 µs/);
  assert.match(all, /10\.00x faster\s*$/m, "the ratio against the only baseline needs no 'vs'");
  assert.match(all, /272\.22x faster\s*$/m);
  assert.is(lines.filter((l) => l.startsWith("handoff")).length, 1, "the bench name is shown once per group");
});

test("the chart never cuts a label", async () => {
  const label = "deno · handoff · baseline: Deno.connect unix socket round trip (park-only, 64 B)";
  const result = await inDeno<{ svg: string; needed: number }>(`
    import { latencyChart, labelWidthOf } from "${cli("svg.ts")}";
    const label = ${JSON.stringify(label)};
    const svg = latencyChart("t", [{ label, median: 21000, p50: 20500, p99: 48000, baseline: true }, { label: "x", median: 900, baseline: false }]);
    console.log(JSON.stringify({ svg, needed: labelWidthOf(label) }));
  `);
  const escaped = label.replace(/&/g, "&amp;");
  assert.ok(result.svg.includes(`>${escaped}</text>`), "the whole label is drawn");
  const x = Number(/<text x="([\d.]+)" y="\d+" text-anchor="end"><title>/.exec(result.svg)![1]);
  assert.ok(
    x >= result.needed,
    `the label ends at x=${x} and needs ${result.needed} px: it starts inside the image`,
  );
});

test("argument errors are TypeError/RangeError with a code, like Node's own", () => {
  using segment = Segment.create(uniqueName("cli-screen-errors"), { size: 65536 });
  const cases: Array<[() => unknown, new (...a: never[]) => Error, string, string]> = [
    [
      () => segment.semaphore("x", { initial: 5, maximum: 4 }),
      RangeError,
      "InvalidArgument",
      "initial > maximum",
    ],
    [
      () => (Segment.create as (name: string) => Segment)(uniqueName("cli-screen-nosize")),
      TypeError,
      "InvalidArgument",
      "no options",
    ],
  ];
  for (const [call, type, code, what] of cases) {
    try {
      call();
      assert.unreachable(`${what} throws`);
    } catch (error) {
      assert.instance(error, type, `${what}: ${(error as Error).message}`);
      assert.is((error as { code?: string }).code, code, `${what} has a code`);
    }
  }
  segment.unlink();
});

test("what read() hands out is given back with release() on it: queue messages and ring records alike", () => {
  using segment = Segment.create(uniqueName("cli-screen-release"), { size: 1 << 20 });
  const ring = segment.ring("r", { capacity: 1024 });
  ring.send("one");
  ring.send("two");
  ring.read({ timeoutMs: 1000 });
  const record = ring.read({ timeoutMs: 1000 });
  assert.is(record.text(), "two");
  assert.ok(ring.stats().used > 0, "the records are held until released");
  record.release();
  assert.is(ring.stats().used, 0, "record.release() frees it and the one read before");

  const queue = segment.queue("q", { slots: 4, slotSize: 64 });
  for (let i = 0; i < 4; i++) queue.send(`m${i}`);
  assert.not.ok(queue.trySend("full"), "four slots, all taken");
  queue.read({ timeoutMs: 1000 }).release();
  assert.ok(queue.trySend("m4"), "message.release() gave a slot back");
  const second = queue.read({ timeoutMs: 1000 });
  queue.releaseAt(second.at);
  assert.ok(queue.trySend("m5"), "queue.releaseAt(at) gave a slot back");
  const third = queue.read({ timeoutMs: 1000 });
  queue.release(third.at); // the deprecated name still works
  assert.ok(queue.trySend("m6"), "the deprecated queue.release(at) gave a slot back");
  segment.unlink();
});

test.run();
