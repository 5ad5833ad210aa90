// The TypeScript side of the exchanges with the C host (embed/host.c), run by
// Deno from the repository. It calls the core's exports directly
// (semaphoreWait/semaphorePost), the same functions the C host calls, so both
// sides run one protocol over one segment.
//
//   deno run -A embed/peer.ts pong SEGMENT ROUNDS
//       Opens the segment the C host created; ROUNDS times waits for
//       semaphore "ping", checks and adds 1 to the u32 in bytes "ball", posts
//       "pong". Prints "peer done ROUNDS".
//   deno run -A embed/peer.ts ask SEGMENT REQUESTS
//       Sends REQUESTS requests "hello from deno N" on channel "rpc" (the C
//       host serves it) and checks that each answer is the request
//       upper-cased. Prints "asked REQUESTS".
//   deno run -A embed/peer.ts hold SEGMENT
//       Locks mutex "robust", prints "holding PID" and stays alive until
//       killed: a holder that dies, for the C host to detect.

import { Segment } from "../ts/mod.ts";

function pong(name: string, rounds: number): void {
  using segment = Segment.open(name, { timeoutMs: 5000 });
  const k = segment.constants;
  const ping = segment.findOrCreate(k.KIND_SEMAPHORE, "ping", { create: false }).handle;
  const pong = segment.findOrCreate(k.KIND_SEMAPHORE, "pong", { create: false }).handle;
  const ballBytes = segment.bytes("ball", 4, { create: false });
  const ball = new Uint32Array(segment.memory.buffer, ballBytes.byteOffset, 1);
  for (let r = 1; r <= rounds; r++) {
    const status = segment.core.semaphoreWait(ping, 30_000, k.WAIT_ADAPTIVE);
    if (status !== k.OK) throw new Error(`round ${r}: no ping (status ${status})`);
    if (ball[0] !== 2 * r - 1) throw new Error(`round ${r}: ball is ${ball[0]}, expected ${2 * r - 1}`);
    ball[0] += 1;
    if (segment.core.semaphorePost(pong, 1) !== k.OK) throw new Error(`round ${r}: pong overflowed`);
  }
  console.log(`peer done ${rounds}`);
}

function ask(name: string, requests: number): void {
  using segment = Segment.open(name, { timeoutMs: 5000 });
  const rpc = segment.channel("rpc", { create: false });
  const decoder = new TextDecoder();
  for (let n = 0; n < requests; n++) {
    const request = `hello from deno ${n}`;
    const response = decoder.decode(rpc.request(request, { timeoutMs: 30_000 }));
    if (response !== request.toUpperCase()) throw new Error(`request ${n}: answered "${response}"`);
  }
  console.log(`asked ${requests}`);
}

function hold(name: string): void {
  const segment = Segment.open(name, { timeoutMs: 5000 });
  segment.mutex("robust").lock({ timeoutMs: 10_000 });
  console.log(`holding ${Deno.pid}`);
  // Stay alive, holding the lock, until killed; the watchdog ends a forgotten one.
  setTimeout(() => Deno.exit(1), 60_000);
}

const [mode, name, count] = Deno.args;
if (mode === "pong" && name !== undefined) pong(name, Number(count));
else if (mode === "ask" && name !== undefined) ask(name, Number(count));
else if (mode === "hold" && name !== undefined) hold(name);
else throw new Error("usage: peer.ts pong SEGMENT ROUNDS | ask SEGMENT REQUESTS | hold SEGMENT");
