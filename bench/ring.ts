// One-way throughput through the SPSC byte ring, from a producer process
// (ring_peer.ts) to this process (the consumer), against a Unix domain socket
// stream in this runtime measured in the same run (socket_peer.ts writing,
// this process reading), for 64 B and 64 KiB messages. Both do the same work
// per message: the producer makes it (64 B: its number in all 16 words;
// 64 KiB: a 64 KiB copy plus its number in the first and last word), the
// consumer checks its number.
//   ring, 64 B, batched     the producer claims up to 256 messages at once
//                           (tryClaimMany), writes all 64 bytes of each in
//                           place, commits the batch; the consumer takes up to
//                           512 (readMany), checks each one's number, releases
//   ring, 64 B, one by one  one claim + commit, one read + release per message
//   ring, 64 KiB            claimAt, copy 64 KiB in, commit; the consumer
//                           checks the numbers in the first and last word in
//                           place and releases (zero-copy read)
//   ring, 64 KiB, copied out   the same, but the consumer takes a private
//                           copy of each message (receive()), as a socket
//                           reader gets one
//   socket, 64 B, 256 per write   the same batching for the socket: one
//                           16 KiB write carries 256 messages
//   socket, 64 B, one per write   one write per message
//   socket, 64 KiB          one write per message
//   floor: message work alone   the batched producer's stamping of 64 B
//                           messages into a private buffer in this process:
//                           no ring, no peer (what the ring case could reach)
// Sockets: node:net, and Deno's or Bun's own; a ratio is taken against the
// faster in this run. Rates count from the end of the first tenth of the
// messages (warm-up) to the last. Both ring sides wait in --wait (default
// adaptive: spin 50 µs, then park).
//
//   deno run -A bench/ring.ts [--rounds 5] [--wait adaptive] [--quick] [--json]
//   node dist/bench/ring.js ...        bun bench/ring.ts ...
// --json prints two lines per case (unit "msgs/s" and "MB/s", MB = 10^6
// bytes of payload), then a {"target":...} line; otherwise a table.

import { Segment } from "../ts/mod.ts";
import { consume, consumeCopying, messageWorkAlone, type Mode, type RingKind, wordsOf } from "./_loops.ts";
import { SOCKET_APIS, socketLabel, socketStream } from "./_sockets.ts";
import {
  atExit,
  flag,
  loadCBuild,
  median,
  printRows,
  progress,
  ratio,
  type Row,
  runtime,
  startPeer,
} from "./lib.ts";
import { judgeRate, printVerdicts } from "./_targets.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;
const rounds = Number(flag("rounds", quick ? "2" : "5"));
const mode = flag("wait", "adaptive") as Mode;
const scale = quick ? 0.2 : 1;
const n = (count: number) => Math.round(count * scale);
const CAPACITY = 1 << 20;
const cBuild = await loadCBuild();
const programs = cBuild.buildC() as Record<string, string>;
/** Diagnostic: what the batched case's per-message JavaScript work costs without any ring. */
const WORK_ALONE = "floor: the 64 B batched case's message work alone (stamping, this process, no ring)";
const C_RING = "baseline: C SPSC ring, 64 B, batched (gcc -O2, spin then yield)";

let serial = 0;

/** Messages per second from a producer process through a fresh ring. */
async function ringRound(kind: RingKind, count: number, copying = false): Promise<number> {
  const name = `/wshm-bench-ring-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: CAPACITY + (1 << 16) });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  let peer;
  try {
    const ring = segment.ring("bench", { capacity: CAPACITY, wait: mode });
    ring.attachConsumer();
    peer = await startPeer("ring_peer", ["producer", name, kind, mode, count, "--unlink"]);
    unlink(); // the peer removed the name once it had opened the segment (--unlink); this covers a peer that could not
    const words = wordsOf(segment);
    const warm = Math.round(count / 10);
    const take = (
      n: number,
      seq: number,
    ) => (copying ? consumeCopying(ring, n, seq) : consume(ring, words, kind, n, seq));
    const seq = take(warm, 0);
    const started = performance.now();
    take(count - warm, seq);
    const seconds = (performance.now() - started) / 1000;
    const code = await peer.exited(10_000);
    if (code !== 0) throw new Error(`the producer exited with ${code}`);
    ring.detach();
    return (count - warm) / seconds;
  } finally {
    peer?.kill();
    unlink();
    segment.close();
  }
}

async function socketRound(api: string, count: number, size: number, batch: number): Promise<number> {
  const warm = Math.round(count / 10);
  const seconds = await socketStream(api, count, size, batch, warm);
  return (count - warm) / seconds;
}

interface Case {
  name: string;
  size: number;
  /** A baseline group: the fastest case of the group is the baseline of the cases that name it. */
  group?: string;
  /** A baseline outside the socket groups (the C ring). */
  alone?: true;
  vs?: string;
  run: () => Promise<number>;
}

const cases: Case[] = [
  { name: "ring, 64 B, batched", size: 64, vs: "batched", run: () => ringRound("batch", n(10_000_000)) },
  { name: "ring, 64 B, one by one", size: 64, vs: "single", run: () => ringRound("single", n(5_000_000)) },
  { name: "ring, 64 KiB", size: 65536, vs: "large", run: () => ringRound("large", n(100_000)) },
  {
    name: "ring, 64 KiB, copied out (receive())",
    size: 65536,
    vs: "large",
    run: () => ringRound("large", n(50_000), true),
  },
];
cases.push({
  name: WORK_ALONE,
  size: 64,
  alone: true,
  run: () => Promise.resolve(messageWorkAlone(n(20_000_000))),
});
cases.push({
  name: C_RING,
  size: 64,
  alone: true,
  run: async () => (await cBuild.runC(programs.spsc_ring, [n(10_000_000)])).median,
});
for (const api of SOCKET_APIS) {
  const label = socketLabel(api);
  cases.push(
    {
      name: `baseline: Unix socket, 64 B, 256 per write (${label})`,
      size: 64,
      group: "batched",
      run: () => socketRound(api, n(10_000_000), 64, 256),
    },
    {
      name: `baseline: Unix socket, 64 B, one per write (${label})`,
      size: 64,
      group: "single",
      run: () => socketRound(api, n(500_000), 64, 1),
    },
    {
      name: `baseline: Unix socket, 64 KiB (${label})`,
      size: 65536,
      group: "large",
      run: () => socketRound(api, n(50_000), 65536, 1),
    },
  );
}

const rates = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < rounds; r++) {
  for (const [i, c] of cases.entries()) {
    progress(json, (r * cases.length + i) / (rounds * cases.length));
    rates.get(c.name)!.push(await c.run());
  }
}

const rows: Row[] = [];
const fastest = new Map<string, Case>();
for (const c of cases) {
  if (c.group === undefined) continue;
  const best = fastest.get(c.group);
  if (best === undefined || median(rates.get(c.name)!) > median(rates.get(best.name)!)) {
    fastest.set(c.group, c);
  }
}
for (const [unit, per] of [["msgs/s", 1], ["MB/s", 0]] as const) {
  for (const c of cases) {
    const values = rates.get(c.name)!.map((rate) => (per ? rate : (rate * c.size) / 1e6));
    rows.push({
      bench: "ring",
      runtime,
      case: c.name,
      unit,
      median: median(values),
      baseline: c.group !== undefined || c.alone ? true : fastest.get(c.vs!)!.name,
      rounds: values.map((v) => Number(v.toPrecision(4))),
      messageBytes: c.size,
      wait: c.group === undefined ? mode : undefined,
    });
  }
}

const batched = rows.find((row) => row.case === "ring, 64 B, batched" && row.unit === "msgs/s")!;
const verdicts = [
  judgeRate(
    "ring 64 B batched at least 0.9x the C SPSC ring (same message work)",
    batched,
    rows.find((row) => row.case === C_RING && row.unit === "msgs/s"),
    0.9,
  ),
];
const target = {
  target: "64 B ring throughput at least 20 million messages/s with batching",
  runtime,
  case: batched.case,
  value: Math.round(batched.median),
  met: batched.median >= 20e6,
};
printRows(rows, json);
for (const row of rows.filter((row) => typeof row.baseline === "string" && row.unit === "msgs/s")) {
  const base = rows.find((b) => b.case === row.baseline && b.unit === row.unit)!;
  if (json) {
    console.log(
      JSON.stringify({
        comparison: row.case,
        runtime,
        vs: base.case,
        ratio: Number(ratio(row, base).toFixed(3)),
      }),
    );
  }
}
printVerdicts(verdicts, json, runtime);
if (json) console.log(JSON.stringify(target));
else {console.log(
    `  target ${target.met ? "MET   " : "MISSED"} ${target.target}: ${
      (batched.median / 1e6).toFixed(1)
    } M msgs/s`,
  );}
process.exit(0);
