// The peers of topic.ts. Each opens SEGMENT (then removes its name with
// --unlink, as the last process to open it), prints "ready" and:
//   echo SEGMENT MODE        subscribes to "ping" and publishes each message
//                            back on "pong" (64 B) until a message of type 1
//   reader SEGMENT MODE      subscribes to "ping" and reads (and releases)
//                            every message until one of type 1: a bystander
//                            of the fan-out latency case
//   sink SEGMENT MODE COUNT  subscribes to "data", reads COUNT messages
//                            (checking each one's number in its first word),
//                            prints "rate <msgs/s>" from its first message to
//                            its last
// MODE: spin | park | adaptive.

import { Segment } from "../ts/mod.ts";
import type { WaitMode } from "../ts/mod.ts";

const args = process.argv.slice(2);
const [role, name, mode] = args;
const wait = mode as WaitMode;
const segment = Segment.open(name, { timeoutMs: 10_000 });
if (args.includes("--unlink")) {
  try {
    Segment.unlink(name);
  } catch { /* the parent was first */ }
}
const STOP = 1;

if (role === "echo" || role === "reader") {
  const sub = segment.topic("ping", { create: false, wait }).subscribe();
  const pong = role === "echo" ? segment.topic("pong", { create: false, wait }) : undefined;
  pong?.attachPublisher();
  console.log("ready");
  while (true) {
    const m = sub.read({ timeoutMs: 60_000 });
    const type = m.type;
    if (pong !== undefined && type !== STOP) {
      const at = pong.loanAt(64, { timeoutMs: 60_000 });
      pong.bytes.copyWithin(at, m.at, m.at + 64);
      pong.commit();
    }
    sub.release();
    if (type === STOP) break;
  }
} else if (role === "sink") {
  const count = Number(args[3]);
  const data = segment.topic("data", { create: false, wait });
  const sub = data.subscribe();
  const words = new Int32Array(data.bytes.buffer, data.bytes.byteOffset, data.bytes.length >>> 2);
  console.log("ready");
  let started = 0;
  for (let i = 0; i < count; i++) {
    const m = sub.read({ timeoutMs: 60_000 });
    if (i === 0) started = performance.now();
    if (words[m.at >>> 2] !== i) throw new Error(`message ${i} carries ${words[m.at >>> 2]}`);
    sub.release();
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`rate ${(count - 1) / seconds}`);
}
segment.close();
