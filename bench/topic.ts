// The topic (publish/subscribe) between processes, each case against a
// baseline measured in the same run (rounds interleaved):
//   topic round trip, 64 B, spin|park   this process publishes on "ping",
//        a peer (topic_peer.ts echo) publishes each message back on "pong":
//        the round trip, against the C spin ping-pong and the C futex
//        ping-pong (bench/c/pingpong.c, gcc -O2) and, when bench/iceoryx.ts
//        can run (iceoryx from Debian), iceoryx's 64 B pub/sub ping-pong
//   topic round trip to 1 of 8 subscribers, adaptive   the same with seven
//        more subscriber processes reading every ping (topic_peer.ts reader):
//        what fan-out costs the publisher and the one that answers, against
//        the 1-subscriber adaptive case (goal: at most 1.2x)
//   topic 64 B to 1 | 8 subscribers   throughput: COUNT messages published
//        under the block policy, each subscriber process reading every one;
//        the median subscriber's rate, against the 1-subscriber case
// One-way latency is half a round trip. On a 2-core machine eight busy
// subscribers cannot all run at once: the fan-out cases use "adaptive"
// (spin 50 µs, then park), and their figures say what this machine can do.
//
//   deno run -A bench/topic.ts [--rounds 5] [--quick] [--json]
//   node dist/bench/topic.js ...        bun bench/topic.ts ...
// --json prints one row per case, then {"target":...} lines with "met".

import { Segment } from "../ts/mod.ts";
import type { WaitMode } from "../ts/mod.ts";
import { ICEORYX_SPIN, ICEORYX_WAITSET, iceoryxSupport, runIceoryxBaseline } from "./iceoryx.ts";
import {
  atExit,
  flag,
  latencyRow,
  loadCBuild,
  median,
  printRows,
  progress,
  ratio,
  type Row,
  runtime,
  startPeer,
} from "./lib.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;
const rounds = Number(flag("rounds", quick ? "2" : "5"));
const scale = quick ? 0.2 : 1;
const n = (count: number) => Math.max(100, Math.round(count * scale));
const cBuild = await loadCBuild();
const programs = cBuild.buildC() as Record<string, string>;

const C_SPIN = "baseline: C spin ping-pong";
const C_PARK = "baseline: C futex ping-pong, park";
const STOP = 1;
let serial = 0;

function newSegment(): { segment: Segment; name: string; unlink: () => void } {
  const name = `/wshm-bench-topic-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: 4 << 20 });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  return { segment, name, unlink };
}

/** Round trips ping -> pong with `bystanders` more subscribers of ping; ns per round trip, one sample each. */
async function roundTrips(mode: WaitMode, trips: number, bystanders = 0): Promise<number[]> {
  const { segment, name, unlink } = newSegment();
  const peers = [];
  try {
    const ping = segment.topic("ping", { maxMessage: 64, depth: 64, subscribers: 16, wait: mode });
    const pong = segment.topic("pong", { maxMessage: 64, depth: 64, subscribers: 1, wait: mode });
    const replies = pong.subscribe();
    ping.attachPublisher();
    for (let i = 0; i < bystanders; i++) peers.push(await startPeer("topic_peer", ["reader", name, mode]));
    peers.push(await startPeer("topic_peer", ["echo", name, mode, "--unlink"]));
    unlink();
    const samples = new Float64Array(trips);
    const warm = Math.max(200, trips / 10);
    let previous = performance.now();
    for (let i = -warm; i < trips; i++) {
      const at = ping.loanAt(64, { timeoutMs: 10_000 });
      ping.bytes[at] = i & 255;
      ping.commit();
      replies.read({ timeoutMs: 10_000 });
      replies.release();
      const now = performance.now();
      if (i >= 0) samples[i] = (now - previous) * 1e6;
      previous = now;
    }
    ping.loanAt(64, { type: STOP, timeoutMs: 10_000 });
    ping.commit();
    for (const peer of peers) {
      const code = await peer.exited(20_000);
      if (code !== 0) throw new Error(`a topic peer exited with ${code}`);
    }
    return Array.from(samples);
  } finally {
    for (const peer of peers) peer.kill();
    unlink();
    segment.close();
  }
}

/** Messages per second per subscriber (the median subscriber) for `count` 64 B messages to `subscribers` processes. */
async function throughput(subscribers: number, count: number): Promise<number> {
  const { segment, name, unlink } = newSegment();
  const peers = [];
  try {
    const data = segment.topic("data", { maxMessage: 64, depth: 1024, subscribers, wait: "adaptive" });
    data.attachPublisher();
    for (let i = 0; i < subscribers; i++) {
      peers.push(
        await startPeer("topic_peer", [
          "sink",
          name,
          "adaptive",
          count,
          ...(i === subscribers - 1 ? ["--unlink"] : []),
        ]),
      );
    }
    unlink();
    const words = new Int32Array(data.bytes.buffer, data.bytes.byteOffset, data.bytes.length >>> 2);
    for (let i = 0; i < count; i++) {
      const at = data.loanAt(64, { timeoutMs: 30_000 });
      words[at >>> 2] = i;
      data.commit();
    }
    const rates = [];
    for (const peer of peers) rates.push(Number((await peer.line(/^rate /, 60_000)).slice(5)));
    for (const peer of peers) await peer.exited(20_000);
    return median(rates);
  } finally {
    for (const peer of peers) peer.kill();
    unlink();
    segment.close();
  }
}

interface Case {
  name: string;
  unit: "ns" | "msgs/s";
  baseline: true | string;
  run: () => Promise<number[] | number>;
}

const cases: Case[] = [
  {
    name: "topic round trip, 64 B, spin",
    unit: "ns",
    baseline: C_SPIN,
    run: () => roundTrips("spin", n(50_000)),
  },
  {
    name: "topic round trip, 64 B, park",
    unit: "ns",
    baseline: C_PARK,
    run: () => roundTrips("park", n(10_000)),
  },
  {
    name: "topic round trip, 64 B, adaptive, 1 subscriber",
    unit: "ns",
    baseline: true,
    run: () => roundTrips("adaptive", n(10_000)),
  },
  {
    name: "topic round trip to 1 of 8 subscribers, adaptive",
    unit: "ns",
    baseline: "topic round trip, 64 B, adaptive, 1 subscriber",
    run: () => roundTrips("adaptive", n(10_000), 7),
  },
  {
    name: "topic 64 B to 1 subscriber",
    unit: "msgs/s",
    baseline: true,
    run: () => throughput(1, n(1_000_000)),
  },
  {
    name: "topic 64 B to 8 subscribers (per subscriber)",
    unit: "msgs/s",
    baseline: "topic 64 B to 1 subscriber",
    run: () => throughput(8, n(300_000)),
  },
  {
    name: C_SPIN,
    unit: "ns",
    baseline: true,
    run: async () => (await cBuild.runC(programs.pingpong, [n(100_000), "spin"])).median,
  },
  {
    name: C_PARK,
    unit: "ns",
    baseline: true,
    run: async () => (await cBuild.runC(programs.pingpong, [n(10_000), "park"])).median,
  },
];

const results = new Map<string, number[][]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of cases.entries()) {
    progress(json, (r * cases.length + i) / (rounds * cases.length));
    const v = await c.run();
    results.get(c.name)!.push(Array.isArray(v) ? v : [v]);
  }
}

const rows: Row[] = cases.map((c) =>
  latencyRow("topic", c.name, c.unit, results.get(c.name)!, { baseline: c.baseline, messageBytes: 64 })
);
// iceoryx (classic, from Debian) when installed: its own harness, rounds interleaved with the C
// ping-pongs there, run after the topic rounds (not interleaved with them).
const support = iceoryxSupport();
if (support.available) {
  const report = await runIceoryxBaseline({
    rounds,
    baselines: false,
    iterations: n(20_000),
    spinIterations: n(100_000),
  });
  for (const row of report.rows) rows.push({ ...row, bench: "topic", baseline: true });
  byCase("topic round trip, 64 B, spin").iceoryx = ICEORYX_SPIN;
  byCase("topic round trip, 64 B, park").iceoryx = ICEORYX_WAITSET;
} else if (!json) {
  console.log(`  (iceoryx not measured: ${support.reason})`);
}
function byCase(name: string): Row {
  return rows.find((r) => r.case === name)!;
}
for (const row of rows) {
  if (row.unit === "msgs/s") delete row.p99;
}
printRows(rows, json);
const byName = (name: string) => rows.find((r) => r.case === name)!;
const targets = [
  ["topic spin round trip at most 1.5x the C spin ping-pong", "topic round trip, 64 B, spin", C_SPIN, 1.5],
  [
    "topic blocking round trip at most 1.3x the C futex ping-pong",
    "topic round trip, 64 B, park",
    C_PARK,
    1.3,
  ],
  [
    "round trip to 1 of 8 subscribers at most 1.2x the single-subscriber one",
    "topic round trip to 1 of 8 subscribers, adaptive",
    "topic round trip, 64 B, adaptive, 1 subscriber",
    1.2,
  ],
] as const;
const comparisons: Array<readonly [string, string, string, number]> = [...targets];
if (support.available) {
  comparisons.push(
    [
      "topic spin round trip below iceoryx's busy-waiting one",
      "topic round trip, 64 B, spin",
      ICEORYX_SPIN,
      1,
    ],
    [
      "topic blocking round trip below iceoryx's WaitSet one",
      "topic round trip, 64 B, park",
      ICEORYX_WAITSET,
      1,
    ],
  );
}
for (const [target, name, base, limit] of comparisons) {
  const times = 1 / ratio(byName(name), byName(base));
  const verdict = {
    target,
    runtime,
    case: name,
    vs: base,
    ratio: Number(times.toFixed(3)),
    limit,
    met: times <= limit,
  };
  if (json) console.log(JSON.stringify(verdict));
  else console.log(`  target ${verdict.met ? "MET   " : "MISSED"} ${target}: ${times.toFixed(2)}x`);
}
process.exit(0);
