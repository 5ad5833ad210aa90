// One thread of Node's futex waiter pool (ts/waiter_pool.ts): blocks in
// futex(2) on request and hands the result back through shared memory,
// waking the main thread's Atomics.waitAsync. Only Node loads this file.
//
// Control block (a SharedArrayBuffer from the pool), Int32 words:
//   0 request: bumped by the main thread for each wait it asks for
//   1 response: set to the request served, after `result` is written
//   2 expected: the value the futex word must hold to sleep
//   3 result: WAIT_WOKEN / WAIT_NOT_EQUAL / WAIT_TIMED_OUT
// and Float64 numbers: 2 the real address of the word, 3 the timeout in ms.

import { workerData } from "node:worker_threads";
import { platform } from "./platform/mod.ts";

const posix = await platform();
const words = new Int32Array(workerData as SharedArrayBuffer);
const numbers = new Float64Array(workerData as SharedArrayBuffer);
let served = 0;
while (true) {
  // SYNC: pairs with the main thread's store of the request after it wrote the arguments.
  Atomics.wait(words, 0, served);
  served = Atomics.load(words, 0);
  words[3] = posix.futexWait(numbers[2], words[2], numbers[3]);
  // SYNC: the result is written before the response that publishes it.
  Atomics.store(words, 1, served);
  Atomics.notify(words, 1);
}
