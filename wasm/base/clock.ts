// The core's clock and its timed futex wait, over the host's integer imports
// (base/host.ts): a wrapping microsecond counter turned into monotonic
// milliseconds here, and a wait whose timeout crosses as whole microseconds.
// Both keep a JavaScript host free of heap numbers on the hot path.
//
// Unwrapping: each read adds the distance from the previous read modulo
// 2^30 µs (about 17.9 minutes). That is exact while two reads of one process
// are less than that apart; within a blocking call they are at most one park
// slice apart (MAX_SLICE_MS below), and a longer gap between two calls only
// makes the clock advance less, which no deadline sees (every deadline is
// taken and checked within one call). The state is wasm globals, private to
// the instance.

import { hostClockUs, hostWaitUs } from "./host";

// @ts-ignore: decorator
@inline const CLOCK_MASK: i32 = (1 << 30) - 1;

/** The longest single futex sleep, so that consecutive clock reads stay well inside the wrap. */
export const MAX_SLICE_MS: f64 = 60_000;

let lastRawUs: i32 = 0;
let clockMsNow: f64 = 0;

/** Monotonic milliseconds of this process (its own origin). One host call, no allocation. */
export function nowMs(): f64 {
  const raw = hostClockUs() & CLOCK_MASK;
  const elapsedUs = (raw - lastRawUs) & CLOCK_MASK;
  lastRawUs = raw;
  clockMsNow += <f64>elapsedUs / 1000;
  return clockMsNow;
}

/**
 * Sleeps while the word at `address` holds `expected`, at most `timeoutMs`
 * (negative: no limit; capped at MAX_SLICE_MS), rounded up to whole
 * microseconds so that a short remainder still sleeps. Returns the host's
 * WAIT_WOKEN, WAIT_NOT_EQUAL or WAIT_TIMED_OUT.
 */
export function waitWord(address: u32, expected: i32, timeoutMs: f64): i32 {
  let timeoutUs: i32 = -1;
  if (timeoutMs >= 0) {
    const ms = timeoutMs < MAX_SLICE_MS ? timeoutMs : MAX_SLICE_MS;
    timeoutUs = <i32>Math.ceil(ms * 1000);
  }
  return hostWaitUs(address, expected, timeoutUs);
}
