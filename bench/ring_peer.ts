// The producer of ring.ts, and both sides of the ring cases of allocation.ts.
// Opens ring "bench" in SEGMENT, waiting in MODE (spin | park | adaptive):
//   producer  sends COUNT messages of KIND (batch | single | large, see
//             _loops.ts), numbered from 0, then exits
//   consumer  (allocation.ts only) takes COUNT messages and checks their
//             numbers; API zero-copy: read in place, copying: receive()
// With --heap WARM COUNT the process measures what it allocates over COUNT
// messages (a multiple of HeapProbe.LAPS) after WARM and prints "heap ..."
// (HeapProbe in lib.ts); a producer's COUNT is then the whole run, WARM +
// COUNT, and the process must have been started with
// benchCommand(..., { heap: true }).
//
//   ring_peer.ts producer SEGMENT KIND MODE COUNT [--heap WARM COUNT] [--unlink]
//   ring_peer.ts consumer SEGMENT KIND MODE API --heap WARM COUNT [--unlink]
// --unlink: remove the segment's name once open (the last process to open it).

import { Segment } from "../ts/mod.ts";
import {
  consume,
  consumeCopying,
  type Mode,
  produce,
  RING_MESSAGE,
  type RingKind,
  wordsOf,
} from "./_loops.ts";
import { HeapProbe } from "./lib.ts";

const args = process.argv.slice(2);
const [role, name, kindText, mode, fifth] = args;
const kind = kindText as RingKind;
if (!(kind in RING_MESSAGE)) throw new Error(`unknown kind ${kind}: batch, single or large`);
const heapAt = args.indexOf("--heap");
const warm = heapAt < 0 ? 0 : Number(args[heapAt + 1]);
const measured = heapAt < 0 ? 0 : Number(args[heapAt + 2]);
const probe = heapAt < 0 ? null : new HeapProbe();

const segment = Segment.open(name, { timeoutMs: 10_000 });
// The last process to open the segment removes its name (the mapping stays):
// then nothing is left in /dev/shm even if the parent is killed (SIGKILL) later.
if (args.includes("--unlink")) {
  try {
    Segment.unlink(name);
  } catch { /* the parent was first */ }
}
const ring = segment.ring("bench", { create: false, wait: mode as Mode });
const words = wordsOf(segment);
const template = new Uint8Array(RING_MESSAGE[kind]).fill(0x5a);

if (role === "producer") {
  ring.attachProducer();
  console.log("ready");
  const count = Number(fifth);
  if (probe === null) produce(ring, words, kind, count, 0, template);
  else {
    let seq = produce(ring, words, kind, warm, 0, template);
    probe.start();
    for (let lap = 0; lap < HeapProbe.LAPS; lap++) {
      if (lap > 0) probe.lap();
      seq = produce(ring, words, kind, measured / HeapProbe.LAPS, seq, template);
    }
    console.log(probe.stop(measured));
    produce(ring, words, kind, count - seq, seq, template);
  }
} else if (role === "consumer") {
  ring.attachConsumer();
  console.log("ready");
  const run = (count: number, seq: number) =>
    fifth === "copying" ? consumeCopying(ring, count, seq) : consume(ring, words, kind, count, seq);
  let seq = run(warm, 0);
  probe!.start();
  for (let lap = 0; lap < HeapProbe.LAPS; lap++) {
    if (lap > 0) probe!.lap();
    seq = run(measured / HeapProbe.LAPS, seq);
  }
  console.log(probe!.stop(measured));
} else {
  throw new Error(`unknown role ${role}: producer or consumer`);
}
ring.detach();
segment.close();
