// The worker side of a WaiterThread (waiter_thread.ts): blocks in futex(2)
// on request and hands the result back through shared memory, waking the
// requesting thread's Atomics.waitAsync. The control block is drawn in
// waiter_thread.ts.

import { workerData } from "node:worker_threads";
import { platform } from "./mod.ts";

const posix = await platform();
const words = new Int32Array(workerData as SharedArrayBuffer);
const numbers = new Float64Array(workerData as SharedArrayBuffer);
let served = 0;
while (true) {
  // SYNC: pairs with the requester's store of the request after it wrote the arguments.
  Atomics.wait(words, 0, served);
  served = Atomics.load(words, 0);
  words[3] = posix.futexWait(numbers[2], words[2], numbers[3]);
  // SYNC: the result is written before the response that publishes it.
  Atomics.store(words, 1, served);
  Atomics.notify(words, 1);
}
