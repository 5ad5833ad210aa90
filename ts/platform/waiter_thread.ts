// A thread that makes blocking futex waits for the JavaScript thread: it
// blocks in futex(2) on request (waiter_thread_worker.ts) and hands the result
// back through shared memory, waking this thread's Atomics.waitAsync. Built on
// node:worker_threads, which Node, Deno and Bun all provide; Node's backend
// uses it for concurrent async waits (node_waiter.ts), bench/async_wait.ts
// measures it on every runtime.
//
// Control block (a SharedArrayBuffer of 32 bytes), Int32 words:
//   0 request: bumped by this thread for each wait it asks for
//   1 response: set by the worker to the request served, after `result`
//   2 expected: the value the futex word must hold to sleep
//   3 result: WAIT_WOKEN / WAIT_NOT_EQUAL / WAIT_TIMED_OUT (posix.ts)
// and Float64 numbers: 2 the real address of the word, 3 the timeout in ms.
// One wait at a time per thread: the caller owns the thread until wait() resolves.

import type { Worker as NodeWorker } from "node:worker_threads";

type WorkerClass = typeof NodeWorker;

// Beside this file: waiter_thread_worker.ts in the sources, .js in the npm build.
const workerFile = import.meta.url.endsWith(".ts")
  ? "./waiter_thread_worker.ts"
  : "./waiter_thread_worker.js";

let Worker: WorkerClass | undefined;

// Atomics.waitAsync is in ES2024, newer than the lib this package compiles against.
type WaitAsync = (
  words: Int32Array,
  index: number,
  value: number,
) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * One waiter thread, started on creation (about 40 ms under Node, once) and
 * idle between waits without keeping the process alive.
 *
 * @example
 * <!-- doctest: node-tsc -->
 * ```ts
 * import { platform } from "./mod.ts";
 * import { WaiterThread } from "./waiter_thread.ts";
 * const posix = await platform();
 * const shared = new SharedArrayBuffer(4);
 * const thread = await WaiterThread.start();
 * await thread.wait(posix.addressOf(shared), 0, 100); // WAIT_TIMED_OUT: nobody wakes it
 * ```
 */
export class WaiterThread {
  readonly #words: Int32Array;
  readonly #numbers: Float64Array;
  readonly #worker: NodeWorker;
  /** Set once the thread failed or exited: it is not reused. */
  broken = false;

  private constructor(Worker: WorkerClass) {
    const shared = new SharedArrayBuffer(32);
    this.#words = new Int32Array(shared);
    this.#numbers = new Float64Array(shared);
    this.#worker = new Worker(new URL(workerFile, import.meta.url), { workerData: shared });
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

  /** Starts a thread (node:worker_threads is loaded on first use). */
  static async start(): Promise<WaiterThread> {
    Worker ??= (await import("node:worker_threads")).Worker;
    return new WaiterThread(Worker);
  }

  /**
   * Sleeps on the thread while the word at the real `address` holds
   * `expected`, at most `timeoutMs` (negative: no limit). Resolves with
   * WAIT_WOKEN, WAIT_NOT_EQUAL or WAIT_TIMED_OUT, or WAIT_WOKEN if the thread
   * broke (callers re-check their word).
   */
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
      const pending = waitAsync(words, 1, request - 1);
      if (pending.async) await pending.value;
      return this.broken ? 0 : words[3];
    } finally {
      this.#worker.unref();
    }
  }
}
