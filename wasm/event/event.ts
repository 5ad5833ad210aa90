// Event: a notifier with a sequence number (an "eventcount"), the building
// block of condition waits across processes.
//
// Layout (EVENT_SIZE bytes at a CACHE_LINE-aligned offset; both hot words
// share one line on purpose: every wait and notify touches both):
//
//  0  ┌───────────────────────────────────────────────────────────────┐
//     │ sequence u32: +1 per notify, wraps (the futex word)           │
//  4  │ sleepers u32: waiters registered as (about to be) asleep      │
//  8  │ notifies u64: total notifies (diagnostics; a plain add after  │
//     │               the fact, so approximate under contention)      │
//     └───────────────────────────────────────────────────────────────┘
//
// Who writes what: `sequence` only by a notifier's atomic add; `sleepers` by
// waiters only (+1 before they look at the sequence for the last time, -1
// after they wake or give up).
//
// The pattern that loses no wake-up: a waiter reads the sequence FIRST, then
// checks its condition (in memory it shares with the notifier), and if the
// condition is false sleeps until the sequence differs from what it read. A
// notifier changes the shared memory first, then notifies. If the notify
// came after the read, the sequence differs and the wait returns at once (or
// futex_wait refuses to sleep, as the kernel compares the word itself); if it
// came before, the condition check saw its change.
//
// No lost wake-up inside the protocol: a waiter does [sleepers += 1; read
// sequence; futex-wait while it is unchanged], a notifier does [sequence +=
// 1; read sleepers; wake if > 0]. Both pairs are sequentially consistent
// atomics, so either the notifier sees the sleeper, or the waiter sees the
// new sequence. Wake-ups may be spurious and "notify one" can release more
// than one waiter (those not yet asleep see the new sequence): callers
// re-check their condition in a loop.

import { SEGMENT_BASE, at } from "../segment/layout";
import { hostWake } from "../base/host";
import { requestWait } from "../base/context";
import { INVALID_ARGUMENT, MUST_WAIT, OK, TIMED_OUT } from "../base/status";
import { block, STEP_PARK, STEP_REGISTERED } from "../base/waiting";

export const EVENT_SIZE: u32 = 64;

// @ts-ignore: decorator
@inline const SEQUENCE: u32 = 0;
// @ts-ignore: decorator
@inline const SLEEPERS: u32 = 4;
// @ts-ignore: decorator
@inline const NOTIFIES: u32 = 8;


/** A structural check of an event found in a segment being opened (any value is valid). */
export function eventValidate(offset: u32, size: u32): bool {
  return size >= EVENT_SIZE;
}

/** The current sequence: read it before checking the condition you will wait on. */
export function eventSequence(offset: u32): u32 {
  // SYNC: acquire; pairs with the notifier's add, so the condition check that
  // follows sees everything written before that notify.
  return atomic.load<u32>(at(offset) + SEQUENCE);
}

/**
 * Advances the sequence and wakes at most `count` sleepers (i32.MAX_VALUE:
 * all). Returns how many were woken, or -INVALID_ARGUMENT if count < 1.
 */
export function eventNotify(offset: u32, count: i32): i32 {
  if (count < 1) return -INVALID_ARGUMENT;
  const a = at(offset);
  // SYNC: release; everything written before the notify is visible to a
  // waiter that sees the new sequence.
  atomic.add<u32>(a + SEQUENCE, 1);
  store<u64>(a + NOTIFIES, load<u64>(a + NOTIFIES) + 1);
  // SYNC: seq_cst after the add; see the no-lost-wake-up argument above.
  if (atomic.load<u32>(a + SLEEPERS) == 0) return 0;
  return hostWake(a + SEQUENCE, count);
}

/**
 * One step of a wait for the sequence to leave `sequence` (the step contract
 * of base/waiting.ts): OK (the sequence moved) or -MUST_WAIT (wait on
 * waitAddress() for waitValue()). With STEP_PARK it registers as a sleeper
 * first (STEP_REGISTERED on the next step withdraws it; a caller that gives
 * up calls eventWaitCancel).
 */
export function eventWaitStep(offset: u32, sequence: u32, unused: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + SLEEPERS, 1);
  if (atomic.load<u32>(a + SEQUENCE) != sequence) return OK;
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + SLEEPERS, 1);
    // SYNC: seq_cst after registering; pairs with the notifier's read of sleepers.
    if (atomic.load<u32>(a + SEQUENCE) != sequence) {
      atomic.sub<u32>(a + SLEEPERS, 1);
      return OK;
    }
  }
  requestWait(a + SEQUENCE, <i32>sequence);
  return -MUST_WAIT;
}

/** Withdraws the sleeper registered by a -MUST_WAIT step that will not be followed up. */
export function eventWaitCancel(offset: u32, unused: u32): void {
  atomic.sub<u32>(at(offset) + SLEEPERS, 1);
}

/**
 * Waits until the sequence differs from `sequence`, at most `timeoutMs`
 * (negative: no limit), under the policy `spins`. OK (it moved, perhaps
 * before the call) or -TIMED_OUT.
 */
export function eventWait(offset: u32, sequence: u32, timeoutMs: f64, spins: i32): i32 {
  const r = block(eventWaitStep, eventWaitCancel, offset, sequence, 0, timeoutMs, spins);
  // A notify that raced the time-out still counts: report what is true now.
  if (r == -TIMED_OUT && atomic.load<u32>(at(offset) + SEQUENCE) != sequence) return OK;
  return r;
}

/** The number of registered sleepers (for inspection). */
export function eventSleepers(offset: u32): u32 {
  return atomic.load<u32>(at(offset) + SLEEPERS);
}

/** The number of notifies so far (approximate under contention; for inspection). */
export function eventNotifies(offset: u32): u64 {
  return load<u64>(at(offset) + NOTIFIES);
}
