// The far side of channel.ts and zero_copy.ts, and both sides of the channel
// cases of allocation.ts. Opens channel "bench" in SEGMENT and
//   server    answers every request in place (stamps + 1, see _loops.ts)
//             until the stop request (length 0); STYLE sync: each answer
//             and the next receive in one respondAndReceive(), two-calls:
//             respondWith() then receive(), async: await receiveAsync()
//   client    (allocation.ts only) WARM exchanges, then COUNT under a heap
//             probe, then the stop request; API zero-copy: begin/send/end
//             (or sendAsync with STYLE async), copying: request()
//   pingpong  (channel.ts's JavaScript floor) no channel: answers each 1
//             stored in the first word of bytes "pingpong" with a 0,
//             spinning with Atomics.load, until it reads 2
// Both wait in MODE (spin | park | adaptive). With --heap WARM COUNT the
// process measures what it allocates over COUNT messages (a multiple of
// HeapProbe.LAPS) after WARM and prints "heap ..." (see HeapProbe in
// lib.ts); it must then have been started with benchCommand(..., { heap: true }).
//
//   channel_peer.ts server SEGMENT MODE STYLE [--heap WARM COUNT] [--unlink]
//   channel_peer.ts client SEGMENT MODE STYLE API --heap WARM COUNT [--unlink]
//   channel_peer.ts pingpong SEGMENT [--unlink]
// --unlink: remove the segment's name once open (the last process to open it).

import { type ChannelRequest, Segment } from "../ts/mod.ts";
import {
  answer,
  exchange,
  exchangeAsync,
  exchangeCopying,
  type Mode,
  stopServer,
  wordsOf,
} from "./_loops.ts";
import { HeapProbe } from "./lib.ts";

const args = process.argv.slice(2);
const [role, name, mode, style, api] = args;
const heapAt = args.indexOf("--heap");
const warm = heapAt < 0 ? -1 : Number(args[heapAt + 1]);
const count = heapAt < 0 ? 0 : Number(args[heapAt + 2]);
const probe = heapAt < 0 ? null : new HeapProbe();

const segment = Segment.open(name, { timeoutMs: 10_000 });
// The last process to open the segment removes its name (the mapping stays):
// then nothing is left in /dev/shm even if the parent is killed (SIGKILL) later.
if (args.includes("--unlink")) {
  try {
    Segment.unlink(name);
  } catch { /* the parent was first */ }
}

/** Server: answers requests until the stop request. */
async function serve(channel: ReturnType<Segment["channel"]>, words: Int32Array): Promise<void> {
  channel.attachServer();
  console.log("ready");
  const options = { timeoutMs: 10_000 };
  let request: ChannelRequest | null = null;
  for (let served = 0;; served++) {
    if (served === warm) probe!.start();
    else if (served > warm && served < warm + count && (served - warm) % (count / HeapProbe.LAPS) === 0) {
      probe!.lap();
    }
    if (request === null) {
      request = style === "async" ? await channel.receiveAsync(options) : channel.receive(options);
    }
    const length = answer(channel, words, request.at, request.length, request.responseAt);
    if (length >= 0 && style === "sync") {
      // The server's hop in one core call: this answer, then the next request.
      request = channel.respondAndReceive(request, length, options);
    } else {
      request.respondWith(Math.max(0, length));
      request = null;
    }
    if (length < 0) break;
    if (served + 1 === warm + count) console.log(probe!.stop(count));
  }
}

/** Client (allocation.ts): a warm-up, then a window under the heap probe, in laps. */
async function call(channel: ReturnType<Segment["channel"]>, words: Int32Array): Promise<void> {
  console.log("ready");
  let seq = 0;
  const payload = new Uint8Array(64);
  const run = async (trips: number) => {
    if (api === "copying") seq = exchangeCopying(channel, [payload], trips, seq, null);
    else if (style === "async") seq = await exchangeAsync(channel, words, 64, true, trips, seq, null);
    else seq = exchange(channel, words, 64, true, trips, seq, null);
  };
  await run(warm);
  probe!.start();
  for (let lap = 0; lap < HeapProbe.LAPS; lap++) {
    if (lap > 0) probe!.lap();
    await run(count / HeapProbe.LAPS);
  }
  console.log(probe!.stop(count));
  stopServer(channel);
}

/** The far side of a ping-pong on one word: waits for 1, answers 0; 2 stops (so do 10 s without a ping). */
function pingpong(word: Int32Array): void {
  console.log("ready");
  let last = performance.now();
  while (true) {
    let value = Atomics.load(word, 0);
    for (let i = 0; value === 0 && i < 1 << 20; i++) value = Atomics.load(word, 0);
    if (value === 2) return;
    if (value === 1) {
      Atomics.store(word, 0, 0);
      last = performance.now();
    } else if (performance.now() - last > 10_000) throw new Error("no ping within 10 s");
  }
}

if (role === "pingpong") {
  const bytes = segment.bytes("pingpong", 64, { create: false });
  pingpong(new Int32Array(bytes.buffer, bytes.byteOffset, 1));
} else if (role === "server" || role === "client") {
  const channel = segment.channel("bench", { create: false, wait: mode as Mode });
  const words = wordsOf(segment);
  if (role === "server") await serve(channel, words);
  else await call(channel, words);
  channel.detach();
} else {
  throw new Error(`unknown role ${role}: server, client or pingpong`);
}
segment.close();
