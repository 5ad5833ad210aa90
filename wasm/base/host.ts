// The host primitives the core needs, and nothing else. Every protocol in this
// module reaches the operating system only through these four imports, so an
// embedder in any WebAssembly runtime can host the core by providing them.
//
// Addresses are wasm addresses: the host adds the base of the memory and calls
// futex(2) on the real address, without FUTEX_PRIVATE_FLAG (the segment is a
// shared mapping, so the kernel keys the futex by inode and offset).

/** Result of `hostWaitUs`: the word was woken (or woke spuriously). */
export const WAIT_WOKEN: i32 = 0;
/** Result of `hostWaitUs`: the word did not hold `expected` when checked. */
export const WAIT_NOT_EQUAL: i32 = 1;
/** Result of `hostWaitUs`: the timeout elapsed. */
export const WAIT_TIMED_OUT: i32 = 2;

/**
 * Sleeps while the 32-bit word at `addr` holds `expected`, for at most
 * `timeoutUs` microseconds (negative: no limit). An integer, not a double: a
 * JavaScript host receives it as a small integer, where an f64 argument would
 * be boxed on its heap at every park. EINTR may come back as WAIT_WOKEN (the
 * core treats every return as "look again" and recomputes the time left).
 */
@external("host", "waitUs")
export declare function hostWaitUs(addr: u32, expected: i32, timeoutUs: i32): i32;

/** Wakes at most `count` sleepers on the word at `addr`; returns how many woke. */
@external("host", "wake")
export declare function hostWake(addr: u32, count: i32): i32;

/**
 * A monotonic clock in whole microseconds, modulo 2^30 (any origin, its own
 * per process): base/clock.ts unwraps it. An integer below 2^30 is what a
 * JavaScript engine returns without allocating (a V8 Smi); a double
 * (milliseconds) was a fresh heap number on every read.
 */
@external("host", "clockUs")
export declare function hostClockUs(): i32;

/**
 * 1 if the process `pid` exists and, when `startTicks` is not zero, was started
 * at `startTicks` (so that a reused pid is not mistaken for the owner); else 0.
 */
@external("host", "processAlive")
export declare function hostProcessAlive(pid: i32, startTicks: u64): i32;
