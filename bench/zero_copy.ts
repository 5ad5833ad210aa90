// Round trip of a 1 MiB message against a 64 B one through the channel with
// the zero-copy API, between this process (the client) and a server process
// (channel_peer.ts): the ideal is flat, the time not depending on the size.
// The client builds its request in place (begin(), then writes into the
// segment: here only the message number into the first and last word, the
// rest of the megabyte being whatever the application left there), sends
// the length, and reads the response in place; the server checks both
// numbers of the request and answers in place with the whole length. So
// 1 MiB changes hands each way and nobody copies it. For contrast, the
// copying API (`request(bytes)`: copies the 1 MiB request in and returns a
// copy of the 1 MiB response) in the same run.
// The two sizes alternate trip by trip with the same server, so both are
// measured under the same conditions (a parked round trip on this VM is
// bimodal, see bench/README.md, and flips between runs); each is compared
// with 64 B in the same mode and API (ratio 1.00 = flat). Both sides spin
// (the lowest-noise mode) or park.
//
//   deno run -A bench/zero_copy.ts [--rounds 5] [--quick] [--json]
//   node dist/bench/zero_copy.js ...     bun bench/zero_copy.ts ...
// --json prints one line per case ({"bench":"zero_copy","runtime","case",
// "unit":"ns","median",...,"baseline"}); otherwise a table.

import { Segment } from "../ts/mod.ts";
import { exchangeCopying, exchangeSizes, type Mode, stopServer, wordsOf } from "./_loops.ts";
import { atExit, flag, latencyRow, printRows, progress, type Row, startPeer } from "./lib.ts";

const quick = flag("quick") !== undefined;
const json = flag("json") !== undefined;
const rounds = Number(flag("rounds", quick ? "2" : "5"));
const scale = quick ? 0.2 : 1;
const MIB = 1 << 20;

let serial = 0;

/**
 * One round: a fresh server in `mode`, then `trips` round trips of each size
 * in `lengths`, alternating trip by trip, after a tenth as warm-up; returns
 * the samples of each size.
 */
async function round(mode: Mode, lengths: number[], copying: boolean, trips: number): Promise<number[][]> {
  const name = `/wshm-bench-zero-copy-${process.pid}-${serial++}`;
  const segment = Segment.create(name, { size: MIB + (1 << 17) });
  const unlink = atExit(() => {
    try {
      Segment.unlink(name);
    } catch { /* gone already */ }
  });
  let peer;
  try {
    const channel = segment.channel("bench", { capacity: MIB, wait: mode });
    peer = await startPeer("channel_peer", ["server", name, mode, "sync", "--unlink"]);
    unlink(); // the peer removed the name once it had opened the segment (--unlink); this covers a peer that could not
    const words = wordsOf(segment);
    const all = trips * lengths.length;
    const warm = Math.max(200, Math.round(all / 10));
    const samples = lengths.map(() => new Float64Array(trips));
    if (copying) {
      const payloads = lengths.map((length) => new Uint8Array(length));
      const seq = exchangeCopying(channel, payloads, warm, 0, null);
      exchangeCopying(channel, payloads, all, seq, samples);
    } else {
      const seq = exchangeSizes(channel, words, lengths, warm, 0, null);
      exchangeSizes(channel, words, lengths, all, seq, samples);
    }
    stopServer(channel);
    const code = await peer.exited(10_000);
    if (code !== 0) throw new Error(`the server exited with ${code}`);
    channel.detach();
    return samples.map((s) => Array.from(s));
  } finally {
    peer?.kill();
    unlink();
    segment.close();
  }
}

const n = (count: number) => Math.max(100, Math.round(count * scale));
const sessions = [
  { label: "zero-copy round trip", mode: "spin" as Mode, copying: false, trips: n(50_000) },
  { label: "zero-copy round trip", mode: "park" as Mode, copying: false, trips: n(5_000) },
  { label: "copying round trip", mode: "spin" as Mode, copying: true, trips: n(2_000) },
];
const caseName = (s: (typeof sessions)[number], size: string) => `${s.label}, ${size}, ${s.mode}`;

const samples = new Map<string, number[][]>();
for (let r = 0; r < rounds; r++) {
  for (const [i, s] of sessions.entries()) {
    progress(json, (r * sessions.length + i) / (rounds * sessions.length));
    const [small, large] = await round(s.mode, [64, MIB], s.copying, s.trips);
    for (const [size, result] of [["64 B", small], ["1 MiB", large]] as const) {
      const key = caseName(s, size);
      samples.set(key, [...(samples.get(key) ?? []), result]);
    }
  }
}
const rows: Row[] = [];
for (const s of sessions) {
  rows.push(
    latencyRow("zero_copy", caseName(s, "64 B"), "ns", samples.get(caseName(s, "64 B"))!, { baseline: true }),
  );
  rows.push(
    latencyRow("zero_copy", caseName(s, "1 MiB"), "ns", samples.get(caseName(s, "1 MiB"))!, {
      baseline: caseName(s, "64 B"),
    }),
  );
}
printRows(rows, json);
process.exit(0);
