// Does a message allocate, in steady state? Runs both sides of each exchange
// as processes that measure their own JavaScript heap over a window of
// messages after a warm-up (HeapProbe in lib.ts):
//   V8 (Deno, Node): started with --expose-gc and a 64 MiB young generation;
//     gc(), heap used + external memory, the window, the same again: nothing
//     is collected inside the window, so the difference is what it allocated
//   Bun (JavaScriptCore): started with BUN_JSC_logGC=1; full collections
//     around the window, which JSC's log reports with the heap size before
//     each; an eden collection inside the window (about every 8 MB) makes the
//     result a lower bound (marked "≥")
// The copying APIs (channel.request(), ring.receive(): each returns a fresh
// copy) are the positive controls: they must show the copy's size or more,
// which shows that the method sees allocations in this runtime.
//
//   deno run -A bench/allocation.ts [--quick] [--json]
//   node dist/bench/allocation.js ...       bun bench/allocation.ts ...
// --json prints one line per side of each case: {"bench":"allocation",
// "runtime","case","unit":"B/msg","median",...}, then a {"target":...} line.

import { Segment } from "../ts/mod.ts";
import { judgeBytes, printVerdicts } from "./_targets.ts";
import type { Mode, RingKind } from "./_loops.ts";
import {
  atExit,
  flag,
  parseHeapReport,
  type Peer,
  printRows,
  progress,
  type Row,
  runtime,
  startPeer,
} from "./lib.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;
const scale = quick ? 0.2 : 1;
const n = (count: number) => Math.round(count * scale);

let serial = 0;

interface Side {
  side: string;
  peer: Peer;
}

/** Reads the "heap" line of each side once all have exited. */
async function collect(
  bench: string,
  sides: Side[],
): Promise<Array<{ side: string; report: ReturnType<typeof parseHeapReport> }>> {
  const results = [];
  for (const { side, peer } of sides) {
    const line = await peer.line(/^heap /, 120_000);
    const code = await peer.exited(120_000);
    if (code !== 0) {
      throw new Error(`${bench}: the ${side} exited with ${code}: ${peer.stderr().slice(-500)}`);
    }
    results.push({ side, report: parseHeapReport(line, peer.stderr()) });
  }
  return results;
}

async function withSegment<T>(
  size: number,
  use: (segment: Segment, name: string, unlink: () => void) => Promise<T>,
): Promise<T> {
  const name = `/wshm-bench-allocation-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  try {
    return await use(segment, name, unlink);
  } finally {
    unlink();
    segment.close();
  }
}

const peers = new Set<Peer>();
async function peer(name: string, args: Array<string | number>): Promise<Peer> {
  const p = await startPeer(name, args, { heap: true, captureStderr: true });
  peers.add(p);
  return p;
}

function channelCase(
  mode: Mode,
  style: "sync" | "async",
  api: "zero-copy" | "copying",
  warm: number,
  count: number,
) {
  return () =>
    withSegment(1 << 20, async (segment, name, unlink) => {
      segment.channel("bench", { capacity: 4096, wait: mode });
      const heap = ["--heap", warm, count];
      const server = await peer("channel_peer", [
        "server",
        name,
        mode,
        style,
        ...(api === "copying" ? [] : heap),
      ]);
      const client = await peer("channel_peer", ["client", name, mode, style, api, ...heap, "--unlink"]);
      unlink();
      return collect(
        "channel",
        api === "copying"
          ? [{ side: "client", peer: client }]
          : [{ side: "client", peer: client }, { side: "server", peer: server }],
      );
    });
}

function ringCase(kind: RingKind, api: "zero-copy" | "copying", warm: number, count: number) {
  return () =>
    withSegment((1 << 20) + (1 << 16), async (segment, name, unlink) => {
      segment.ring("bench", { capacity: 1 << 20 });
      const heap = ["--heap", warm, count];
      const consumer = await peer("ring_peer", ["consumer", name, kind, "adaptive", api, ...heap]);
      const producer = await peer("ring_peer", [
        "producer",
        name,
        kind,
        "adaptive",
        warm + count,
        ...(api === "copying" ? [] : heap),
        "--unlink",
      ]);
      unlink();
      const sides = [{ side: "consumer", peer: consumer }];
      if (api !== "copying") sides.push({ side: "producer", peer: producer });
      return collect("ring", sides);
    });
}

const cases = [
  {
    name: "channel, spin, zero-copy (begin/send/end, receive/respondWith)",
    run: channelCase("spin", "sync", "zero-copy", n(50_000), n(100_000)),
  },
  // 40,000 warm-up exchanges: Deno's parked path still tiers up after 10,000 (heapUsed grew 2.3, 1.8, 0.0,
  // 0.3 B/msg over four windows of 20,000 after the first 20,000), which is not per-message garbage.
  { name: "channel, park, zero-copy", run: channelCase("park", "sync", "zero-copy", n(40_000), n(20_000)) },
  {
    name: "channel, async adaptive, zero-copy (sendAsync, receiveAsync)",
    run: channelCase("adaptive", "async", "zero-copy", n(10_000), n(20_000)),
  },
  {
    // Every wait off the JavaScript thread: what an async message costs when the poll misses.
    name: "channel, async park, zero-copy (sendAsync, receiveAsync)",
    run: channelCase("park", "async", "zero-copy", n(5_000), n(10_000)),
  },
  {
    name: "ring, 64 B, batched (tryClaimMany/commit, readMany/release)",
    run: ringCase("batch", "zero-copy", n(1_000_000), n(2_000_000)),
  },
  {
    name: "ring, 64 B, one by one (tryClaimAt/commit, tryRead/release)",
    run: ringCase("single", "zero-copy", n(200_000), n(500_000)),
  },
  {
    name: "control: channel.request() (returns a copy)",
    control: true,
    run: channelCase("spin", "sync", "copying", n(50_000), n(100_000)),
  },
  {
    name: "control: ring.receive() (returns a copy)",
    control: true,
    run: ringCase("single", "copying", n(200_000), n(500_000)),
  },
];

const rows: Row[] = [];
try {
  for (const [i, c] of cases.entries()) {
    progress(json, i / cases.length);
    for (const { side, report } of await c.run()) {
      rows.push({
        bench: "allocation",
        runtime,
        case: `${c.name}: ${side}`,
        unit: "B/msg",
        median: Number(report.bytesPerMessage.toFixed(3)),
        bytes: report.bytes,
        messages: report.messages,
        lowerBound: report.lowerBound,
        collections: report.collections,
        control: c.control === true,
        method: runtime === "bun" ? "JSC GC log" : "V8 heap used + external, no GC in window",
      });
    }
  }
} finally {
  for (const p of peers) p.kill();
}

// In the table, a JSC lower bound says so; the JSON rows keep the case name and carry lowerBound.
function marked(row: Row): Row {
  return row.lowerBound ? { ...row, case: `${row.case} (≥, ${row.collections} eden GCs)` } : row;
}
// Issue 10: nothing per message in a sync mode (below 1 B/msg: the methods'
// resolution, a few bytes per window, is far below that in V8; Bun's is 0.16
// B/msg at full size), at most 128 B per async message; judged only if the
// controls showed their copies.
const controlsShown = rows.filter((row) => row.control).every((row) => row.median >= 32);
const verdicts = rows.filter((row) => !row.control).map((row) =>
  row.case.includes("async")
    ? judgeBytes("at most 128 B per async message", row, 128, controlsShown)
    : judgeBytes("no allocation per message in a sync mode (< 1 B/msg)", row, 0.999, controlsShown)
);
printRows(json ? rows : rows.map(marked), json);
printVerdicts(verdicts, json, runtime);
const measured = rows.filter((row) => !row.control);
const sync = measured.filter((row) => !row.case.includes("async"));
const controlsSeen = rows.filter((row) => row.control).every((row) => row.median >= 32);
const target = {
  target: "no allocation per message in steady state (< 1 byte per message on each side)",
  runtime,
  met: measured.every((row) => row.median < 1) && controlsSeen,
  syncZeroCopyMet: sync.every((row) => row.median < 1) && controlsSeen,
  controlsSeen,
  worst: measured.reduce((a, b) => (b.median > a.median ? b : a)).case,
};
if (json) console.log(JSON.stringify(target));
else {
  console.log(
    `  target ${target.met ? "MET   " : "MISSED"} ${target.target} (sync zero-copy paths alone: ${
      target.syncZeroCopyMet ? "met" : "missed"
    }; controls seen: ${controlsSeen})`,
  );
}
process.exit(0);
