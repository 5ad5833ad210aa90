// The far side of bench/handoff.ts: takes a permit from "ping", gives one to
// "pong", until told to stop (a ping with the stop flag set in "control").
//   handoff_peer.ts SEGMENT SPIN_LIMIT

import { Segment } from "../ts/mod.ts";

const [name, spinText] = process.argv.slice(-2);
const segment = Segment.open(name, { timeoutMs: 5000 });
const core = segment.core;
core.setSpinLimit(Number(spinText));
const ping = segment.findOrCreate(segment.constants.KIND_SEMAPHORE, "ping", { create: false }).handle;
const pong = segment.findOrCreate(segment.constants.KIND_SEMAPHORE, "pong", { create: false }).handle;
const control = new Int32Array(
  segment.memory.buffer,
  segment.bytes("control", 4, { create: false }).byteOffset,
  1,
);
console.log("ready");
while (true) {
  if (core.semaphoreWait(ping, 10_000, Number(spinText)) !== 0) throw new Error("no ping within 10 s");
  if (Atomics.load(control, 0) !== 0) break;
  core.semaphorePost(pong, 1);
}
segment.close();
