// The host primitives the core needs, and nothing else. Every protocol in this
// module reaches the operating system only through these four imports, so an
// embedder in any WebAssembly runtime can host the core by providing them.
//
// Addresses are wasm addresses: the host adds the base of the memory and calls
// futex(2) on the real address, without FUTEX_PRIVATE_FLAG (the segment is a
// shared mapping, so the kernel keys the futex by inode and offset).

/** Result of `hostWait`: the word was woken (or woke spuriously). */
export const WAIT_WOKEN: i32 = 0;
/** Result of `hostWait`: the word did not hold `expected` when checked. */
export const WAIT_NOT_EQUAL: i32 = 1;
/** Result of `hostWait`: the timeout elapsed. */
export const WAIT_TIMED_OUT: i32 = 2;

/**
 * Sleeps while the 32-bit word at `addr` holds `expected`, for at most
 * `timeoutMs` milliseconds (negative: no limit). The host retries EINTR.
 */
@external("host", "wait")
export declare function hostWait(addr: u32, expected: i32, timeoutMs: f64): i32;

/** Wakes at most `count` sleepers on the word at `addr`; returns how many woke. */
@external("host", "wake")
export declare function hostWake(addr: u32, count: i32): i32;

/**
 * A monotonic clock in milliseconds. Only differences taken within one
 * process matter (deadlines), so each host may use its own origin.
 */
@external("host", "nowMs")
export declare function hostNowMs(): f64;

/**
 * 1 if the process `pid` exists and, when `startTicks` is not zero, was started
 * at `startTicks` (so that a reused pid is not mistaken for the owner); else 0.
 */
@external("host", "processAlive")
export declare function hostProcessAlive(pid: i32, startTicks: u64): i32;
