// Counting semaphore.
//
// Layout (SEMAPHORE_SIZE bytes at a CACHE_LINE-aligned offset; the two hot
// words share one line on purpose: every wait and post touches both):
//
//  0  ┌───────────────────────────────────────────────────────────────┐
//     │ value u32: permits available now (the futex word)             │
//  4  │ sleepers u32: processes registered as (about to be) asleep    │
//  8  │ maximum u32: a post beyond it fails with OVERFLOW             │
//  12 │ initial u32: the value at creation (for inspection)           │
//  16 │ posts u64, 24 waits u64: totals (diagnostics; non-atomic adds │
//     │ after the fact, so approximate under contention)              │
//     └───────────────────────────────────────────────────────────────┘
//
// Who writes what: `value` changes only by compare-and-swap (a waiter takes
// one, a poster adds one). `sleepers` is incremented by a waiter before it
// looks at `value` for the last time and decremented after it wakes.
//
// No lost post: a waiter does [sleepers += 1; read value; futex-wait while
// value == 0], a poster does [value += n; read sleepers; wake n if > 0].
// Both pairs are sequentially consistent atomics, so either the poster sees
// the sleeper and wakes it, or the waiter sees the new value and does not
// sleep (and futex_wait itself re-checks value == 0 inside the kernel).
// A post of n wakes at most n sleepers; if a running waiter takes a permit
// first, the woken one sleeps again: every permit goes to exactly one taker.
//
// Plain loads: the first read of `value` in a take or a post is a plain
// guess. Where it lets the CAS go ahead, it is only the CAS's expected value
// (a stale one fails the CAS, which returns the current value); where it
// would refuse (nothing to take, or a post past the maximum), `value` is read
// again with a sequentially consistent atomic first, so no refusal rests on
// a stale read. The inspection read of `value` is plain too. The no-lost-post
// pairs above stay sequentially consistent: the waiter's read after
// registering, the poster's read of `sleepers` after its CAS. (i32.atomic.load is a locked instruction in JavaScriptCore, as costly
// as a CAS; see mutex/mutex.ts.)
//
// Permits are not owned: a process that dies after taking a permit takes it
// with it. Protocols that must survive that (the channel) keep their own
// record of who holds what.

import { SEGMENT_BASE, at } from "../segment/layout";
import { hostWake } from "../base/host";
import { requestWait } from "../base/context";
import { INVALID_ARGUMENT, MUST_WAIT, OK, OVERFLOW, WOULD_BLOCK } from "../base/status";
import { block, STEP_PARK, STEP_REGISTERED } from "../base/waiting";

/**
 * CAS rounds before a call gives up on a value that keeps changing: each
 * failed round means another process changed it, so legitimate contention
 * never comes near this; it bounds the loop against a peer flipping the word.
 */
// @ts-ignore: decorator
@inline const CAS_ATTEMPTS: i32 = 4096;

export const SEMAPHORE_SIZE: u32 = 64;
/** The largest maximum a semaphore may have. */
export const SEMAPHORE_VALUE_MAX: u32 = 0x7FFFFFFF;

// @ts-ignore: decorator
@inline const VALUE: u32 = 0;
// @ts-ignore: decorator
@inline const SLEEPERS: u32 = 4;
// @ts-ignore: decorator
@inline const MAXIMUM: u32 = 8;
// @ts-ignore: decorator
@inline const INITIAL: u32 = 12;
// @ts-ignore: decorator
@inline const POSTS: u32 = 16;
// @ts-ignore: decorator
@inline const WAITS: u32 = 24;


/** Parameters are valid if 0 <= initial <= maximum <= SEMAPHORE_VALUE_MAX and maximum > 0. */
export function semaphoreParamsValid(initial: u32, maximum: u32): bool {
  return maximum > 0 && maximum <= SEMAPHORE_VALUE_MAX && initial <= maximum;
}

export function semaphoreInit(offset: u32, initial: u32, maximum: u32): void {
  const a = at(offset);
  store<u32>(a + MAXIMUM, maximum);
  store<u32>(a + INITIAL, initial);
  store<u32>(a + VALUE, initial);
}

/** Takes a permit if one is available now: OK or -WOULD_BLOCK. */
export function semaphoreTryWait(offset: u32): i32 {
  const a = at(offset);
  // A plain guess, read again if it finds nothing (see "Plain loads" above).
  let v = load<u32>(a + VALUE);
  if (v == 0) v = atomic.load<u32>(a + VALUE);
  for (let attempt = 0; v > 0 && attempt < CAS_ATTEMPTS; attempt++) {
    // SYNC: acquire; what the poster wrote before posting is visible to us.
    const old = atomic.cmpxchg<u32>(a + VALUE, v, v - 1);
    if (old == v) {
      store<u64>(a + WAITS, load<u64>(a + WAITS) + 1);
      return OK;
    }
    v = old;
  }
  return -WOULD_BLOCK;
}

/**
 * One step of a wait (the step contract of base/waiting.ts): OK (permit taken) or
 * -MUST_WAIT (wait on waitAddress() for waitValue()). With STEP_PARK it
 * registers as a sleeper first (STEP_REGISTERED on the next step withdraws
 * that registration; a caller that gives up calls semaphoreWaitCancel).
 */
export function semaphoreWaitStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + SLEEPERS, 1);
  if (semaphoreTryWait(offset) == OK) return OK;
  if ((flags & STEP_PARK) == 0) {
    requestWait(a + VALUE, 0);
    return -MUST_WAIT;
  }
  atomic.add<u32>(a + SLEEPERS, 1);
  // SYNC: seq_cst after registering; see the no-lost-post argument above.
  if (atomic.load<u32>(a + VALUE) != 0 && semaphoreTryWait(offset) == OK) {
    atomic.sub<u32>(a + SLEEPERS, 1);
    return OK;
  }
  requestWait(a + VALUE, 0);
  return -MUST_WAIT;
}

/**
 * Withdraws the sleeper registered by a -MUST_WAIT step that will not be
 * followed up. A post may already have woken this sleeper for a permit it
 * now leaves behind; so that no other sleeper misses that wake-up, pass it on.
 */
export function semaphoreCancelWait(offset: u32): void {
  const a = at(offset);
  const remaining = atomic.sub<u32>(a + SLEEPERS, 1) - 1;
  if (remaining != 0 && atomic.load<u32>(a + VALUE) != 0) hostWake(a + VALUE, 1);
}

/** semaphoreCancelWait in the shape of the step contract's cancel. */
export function semaphoreWaitCancel(offset: u32, unused: u32): void {
  semaphoreCancelWait(offset);
}

/** Takes a permit, waiting at most `timeoutMs` (negative: no limit) under the policy `spins`: OK or -TIMED_OUT. */
export function semaphoreWait(offset: u32, timeoutMs: f64, spins: i32): i32 {
  if (semaphoreTryWait(offset) == OK) return OK;
  return block(semaphoreWaitStep, semaphoreWaitCancel, offset, 0, 0, timeoutMs, spins);
}

/**
 * Adds `count` permits and wakes as many sleepers: OK, -OVERFLOW (nothing
 * added), -INVALID_ARGUMENT (count 0), or -WOULD_BLOCK (nothing added: the
 * value kept changing under CAS_ATTEMPTS rounds; post again).
 */
export function semaphorePost(offset: u32, count: u32): i32 {
  if (count == 0) return -INVALID_ARGUMENT;
  const a = at(offset);
  const maximum = load<u32>(a + MAXIMUM);
  // A plain guess, read again if it would refuse (see "Plain loads" above).
  let v = load<u32>(a + VALUE);
  if (count > maximum || v > maximum - count) v = atomic.load<u32>(a + VALUE);
  let posted = false;
  for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
    if (count > maximum || v > maximum - count) return -OVERFLOW;
    // SYNC: release; publishes what was written before the post to the taker.
    const old = atomic.cmpxchg<u32>(a + VALUE, v, v + count);
    if (old == v) {
      posted = true;
      break;
    }
    v = old;
  }
  if (!posted) return -WOULD_BLOCK;
  store<u64>(a + POSTS, load<u64>(a + POSTS) + count);
  if (atomic.load<u32>(a + SLEEPERS) != 0) hostWake(a + VALUE, <i32>count);
  return OK;
}

/** The number of permits available now (for inspection; stale as soon as read). */
export function semaphoreValue(offset: u32): u32 {
  return load<u32>(at(offset) + VALUE);
}

/** The number of registered sleepers (for inspection). */
export function semaphoreSleepers(offset: u32): u32 {
  return atomic.load<u32>(at(offset) + SLEEPERS);
}

/** The maximum value given at creation. */
export function semaphoreMaximum(offset: u32): u32 {
  return load<u32>(at(offset) + MAXIMUM);
}

/** A structural check of a semaphore found in a segment being opened. */
export function semaphoreValidate(offset: u32, size: u32): bool {
  if (size < SEMAPHORE_SIZE) return false;
  const a = at(offset);
  const maximum = load<u32>(a + MAXIMUM);
  return maximum > 0 && maximum <= SEMAPHORE_VALUE_MAX && atomic.load<u32>(a + VALUE) <= maximum;
}
