// Node's off-thread futex waits. koffi's async calls run on libuv's thread
// pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which fs, dns,
// crypto and zlib share: a wait parked there holds a thread for a whole
// slice. Measured here (Node 20, 2 cores): with 5 async waits pending a
// readFile took 200 ms and the 6th wait woke 50 ms late; with 11 pending,
// 800 ms and 150 ms. So Node puts at most one wait at a time on that pool
// (koffi async: no start-up cost) and gives further concurrent waits threads
// of their own (ts/waiter_thread.ts), started on demand (about 40 ms each,
// once) and kept idle for reuse without keeping the process alive.

import type { Posix } from "./platform/mod.ts";

/** Waits at most this many at once on libuv's pool. */
const POOL_WAITS = 1;

// deno-lint-ignore no-explicit-any
type NodeWorker = any;

class WaiterThread {
  readonly #words: Int32Array;
  readonly #numbers: Float64Array;
  readonly #worker: NodeWorker;
  /** Set once the thread failed or exited: it is not reused. */
  broken = false;

  constructor(Worker: new (url: URL, options: object) => NodeWorker) {
    const shared = new SharedArrayBuffer(32);
    this.#words = new Int32Array(shared);
    this.#numbers = new Float64Array(shared);
    const file = import.meta.url.endsWith(".ts") ? "./waiter_thread.ts" : "./waiter_thread.js";
    this.#worker = new Worker(new URL(file, import.meta.url), { workerData: shared });
    this.#worker.unref();
    const fail = () => {
      this.broken = true;
      // Release a pending wait as a spurious wake-up: its caller re-checks.
      Atomics.store(this.#words, 1, Atomics.load(this.#words, 0));
      Atomics.notify(this.#words, 1);
    };
    this.#worker.on("error", fail);
    this.#worker.on("exit", fail);
  }

  async wait(address: number, expected: number, timeoutMs: number): Promise<number> {
    const words = this.#words;
    this.#numbers[2] = address;
    this.#numbers[3] = timeoutMs;
    words[2] = expected;
    const request = Atomics.load(words, 0) + 1;
    this.#worker.ref();
    try {
      // SYNC: the arguments are written before the request that publishes them.
      Atomics.store(words, 0, request);
      Atomics.notify(words, 0);
      // deno-lint-ignore no-explicit-any
      const pending = (Atomics as any).waitAsync(words, 1, request - 1);
      if (pending.async) await pending.value;
      return this.broken ? 0 : words[3];
    } finally {
      this.#worker.unref();
    }
  }
}

let Worker: (new (url: URL, options: object) => NodeWorker) | undefined;
const idle: WaiterThread[] = [];
let poolWaits = 0;
let threadsFailed = 0;

/** A futex wait off the JavaScript thread that never parks more than one wait on libuv's pool. */
export async function nodeWaitAsync(
  posix: Posix,
  address: number,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  // Threads that keep failing (no worker support, say) are given up on.
  if (poolWaits < POOL_WAITS || threadsFailed > 2) {
    poolWaits++;
    try {
      return await posix.futexWaitAsync(address, expected, timeoutMs);
    } finally {
      poolWaits--;
    }
  }
  Worker ??= (await import("node:worker_threads")).Worker;
  const thread = idle.pop() ?? new WaiterThread(Worker);
  try {
    return await thread.wait(address, expected, timeoutMs);
  } finally {
    if (thread.broken) threadsFailed++;
    else idle.push(thread);
  }
}
