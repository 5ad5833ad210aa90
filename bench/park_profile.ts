// A long channel round-trip run to profile, and nothing else: this process
// is the client, a channel_peer.ts server process the server, both in wait
// mode MODE (default "park": every hand-off a futex wake-up; "spin" to
// profile the spin round trip, with WSHM_BENCH_PIN=split), TRIPS round trips
// of 64 B, then the mean per trip. Place it with WSHM_BENCH_PIN (bench/lib.ts):
// "same" (one CPU: every hand-off a context switch, the regime in which the
// channel's own user-space work shows against the C futex ping-pong) or
// "split". Under perf, with the JIT's symbols:
//
//   WSHM_BENCH_PIN=same NODE_OPTIONS=--perf-basic-prof \
//     perf record -F 2000 -g -o /tmp/park.data -- node dist/bench/park_profile.js 300000
//   perf report -i /tmp/park.data --no-children --sort dso
//   rm -f isolate-*-v8.log /tmp/perf-*.map   # what those V8 flags leave behind
//
//   park_profile.ts [TRIPS] [park|spin|adaptive|async-park|socket]
//
// async-park: both sides in park mode with the async calls (sendAsync,
// receiveAsync: every wait off the JavaScript thread); socket: the node:net
// Unix socket round trip of channel.ts instead of the channel. Under
// `perf stat -a -e context-switches` these two give the context switches a
// round trip costs each way (bench/README.md, issue 10).
//
// bench/README.md ("Where a parked round trip's time goes") has what it found.

import { Segment } from "../ts/mod.ts";
import { exchange, exchangeAsync, stopServer, wordsOf } from "./_loops.ts";
import { socketRoundTrips } from "./_sockets.ts";
import { atExit, startPeer } from "./lib.ts";

const trips = Number(process.argv[2] ?? "300000");
const mode = process.argv[3] ?? "park";
const MODES = ["park", "spin", "adaptive", "async-park", "socket"];
if (!Number.isInteger(trips) || trips < 1000 || !MODES.includes(mode)) {
  console.error(`usage: park_profile.ts [TRIPS >= 1000] [${MODES.join("|")}]`);
  process.exit(2);
}
if (mode === "socket") {
  const samples = await socketRoundTrips("net", trips, 2000);
  const total = samples.reduce((sum, t) => sum + t, 0);
  console.log(`${trips} round trips (node:net socket), ${(total / trips / 1000).toFixed(2)} µs each (mean)`);
  process.exit(0);
}
const wait = mode === "async-park" ? "park" : mode as "park" | "spin" | "adaptive";
const style = mode === "async-park" ? "async" : "sync";
const name = `/wshm-bench-park-${process.pid}`;
const segment = Segment.create(name, { size: 1 << 20 });
const unlink = atExit(() => {
  try {
    Segment.unlink(name);
  } catch { /* gone already */ }
});
const channel = segment.channel("bench", { capacity: 4096, wait });
const peer = await startPeer("channel_peer", ["server", name, wait, style, "--unlink"]);
try {
  unlink();
  const words = wordsOf(segment);
  const started = style === "async"
    ? await (async () => {
      const seq = await exchangeAsync(channel, words, 64, true, 2000, 0, null);
      const t = performance.now();
      await exchangeAsync(channel, words, 64, true, trips, seq, null);
      return t;
    })()
    : (() => {
      const seq = exchange(channel, words, 64, true, 2000, 0, null);
      const t = performance.now();
      exchange(channel, words, 64, true, trips, seq, null);
      return t;
    })();
  const ms = performance.now() - started;
  stopServer(channel);
  channel.detach();
  const code = await peer.exited(10_000);
  if (code !== 0) throw new Error(`the server exited with ${code}`);
  console.log(`${trips} round trips (${mode}), ${((ms * 1000) / trips).toFixed(2)} µs each (mean)`);
} finally {
  peer.kill();
  unlink();
  segment.close();
}
