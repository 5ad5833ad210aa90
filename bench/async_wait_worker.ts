// Worker side of the "waiter thread + Atomics.waitAsync" design measured by
// bench/async_wait.ts: blocks in futex(2) on request and hands the result back
// through a SharedArrayBuffer, waking the main thread's Atomics.waitAsync.
// Control block (Int32 words): 0 request sequence, 1 response sequence,
// 2 expected value, 3 result; Float64 at byte 16: address, byte 24: timeout ms.

import { platform } from "../ts/platform/mod.ts";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

async function serve(shared: SharedArrayBuffer): Promise<void> {
  const posix = await platform();
  const words = new Int32Array(shared);
  const numbers = new Float64Array(shared);
  let seen = 0;
  Atomics.store(words, 1, -1); // ready
  Atomics.notify(words, 1);
  while (true) {
    Atomics.wait(words, 0, seen);
    seen = Atomics.load(words, 0);
    words[3] = posix.futexWait(numbers[2], words[2], numbers[3]);
    Atomics.store(words, 1, seen);
    Atomics.notify(words, 1);
  }
}

if (g.Deno || g.Bun) {
  g.onmessage = (event: { data: SharedArrayBuffer }) => void serve(event.data);
} else {
  const { workerData } = await import("node:worker_threads");
  void serve(workerData as SharedArrayBuffer);
}
