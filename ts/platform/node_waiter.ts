// Node's off-thread futex waits. koffi's async calls run on libuv's thread
// pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which fs, dns,
// crypto and zlib share: a wait parked there holds a thread for a whole
// slice. Measured here (Node 20, 2 cores): with 5 async waits pending a
// readFile took 200 ms and the 6th wait woke 50 ms late; with 11 pending,
// 800 ms and 150 ms. So Node puts at most one wait at a time on that pool
// (koffi async: no start-up cost) and gives further concurrent waits threads
// of their own (waiter_thread.ts), started on demand (about 40 ms each,
// once) and kept idle for reuse without keeping the process alive.

import { WAIT_WOKEN } from "./posix.ts";
import { WaiterThread } from "./waiter_thread.ts";

/** Waits at most this many at once on libuv's pool. */
const POOL_WAITS = 1;

/**
 * The libc-level async wait: futex(2) on a libuv thread, resolving with the
 * syscall's result. It calls `settled` once the call has returned (before
 * the promise settles), also when the call could not be made.
 */
export type PoolWait = (
  address: number,
  expected: number,
  timespec: Uint8Array | null,
  settled: () => void,
) => Promise<number>;

/** What nodeWaiter returns: Libc.futexWaitAsync's shape. */
type AsyncWait = (address: number, expected: number, timespec: Uint8Array | null) => Promise<number>;

/**
 * Node's `Libc.futexWaitAsync`: `poolWait` (koffi's async call) for the
 * first wait pending, a waiter thread for each further concurrent one.
 * Resolves with the syscall's result as futex(2) gives it (0: woken, -1:
 * anything else), whichever ran it.
 *
 * @example
 * ```ts
 * import { nodeWaiter } from "./node_waiter.ts";
 * // In place of a libuv-pool call: a stand-in that reports "not equal" at once.
 * const futexWaitAsync = nodeWaiter((_address, _expected, _timespec, settled) => {
 *   settled();
 *   return Promise.resolve(-1);
 * });
 * const word = 0; // really the address of a futex word
 * console.log(await futexWaitAsync(word, 0, null)); // -1
 * ```
 */
export function nodeWaiter(poolWait: PoolWait): AsyncWait {
  const idle: WaiterThread[] = [];
  let poolWaits = 0;
  let threadsFailed = 0;
  // Kept, not made per wait: the pool path adds no promise or closure of its
  // own to the pool call's (an async wrapper with try/finally cost about
  // 0.7 KB per wait in Node 20, measured with the sampling heap profiler).
  const poolSettled = () => {
    poolWaits--;
  };
  const onThread = async (address: number, expected: number, timespec: Uint8Array | null) => {
    const thread = idle.pop() ?? await WaiterThread.start();
    try {
      return (await thread.wait(address, expected, timeoutMsOf(timespec))) === WAIT_WOKEN ? 0 : -1;
    } finally {
      if (thread.broken) threadsFailed++;
      else idle.push(thread);
    }
  };
  return (address, expected, timespec) => {
    // Threads that keep failing (no worker support, say) are given up on.
    if (poolWaits < POOL_WAITS || threadsFailed > 2) {
      poolWaits++;
      return poolWait(address, expected, timespec, poolSettled);
    }
    return onThread(address, expected, timespec);
  };
}

/** The milliseconds of a 16-byte timespec (tv_sec, tv_nsec as int64), -1 for none. */
function timeoutMsOf(timespec: Uint8Array | null): number {
  if (timespec === null) return -1;
  const view = new DataView(timespec.buffer, timespec.byteOffset, 16);
  return Number(view.getBigInt64(0, true)) * 1000 + Number(view.getBigInt64(8, true)) / 1e6;
}
