// How the queue protocols (ring, queue, channel) wait: spin for a bounded
// time (or number of loads), then park on a futex in slices, checking the
// peer's liveness whenever a slice runs out. Each protocol supplies one step function; this
// file owns the policy, so every blocking call behaves the same way.
//
// A step is `step(offset, arg0, arg1, flags) -> i32`: a result >= 0 (an offset, a
// count) or a negative status. -MUST_WAIT means "nothing yet": the step has
// left in context.requestWait() the word to watch and the value it holds
// while there is nothing. Flags:
//
//   STEP_PARK        register as a sleeper before the final look, so that
//                    the peer wakes us (without it the step only probes and
//                    names the word to spin on; peers never make a syscall
//                    for a spinning waiter)
//   STEP_REGISTERED  the previous step registered: withdraw that first
//   STEP_CHECK_PEER  a wait slice ran out: if the peer's process is dead,
//                    return -PEER_DIED (or recover, as the protocol says)
//
// Policies (the `spins` argument of every blocking export):
//   WAIT_ADAPTIVE (-1)  spin ADAPTIVE_SPIN_MS, then park (park at once if
//                       context.spinLimit is 0)
//   WAIT_SPIN     (-2)  never park; spin until done, timed out or peer dead
//   0                   park at once
//   n > 0               spin n loads, then park

import { WAIT_NOT_EQUAL, WAIT_TIMED_OUT } from "./host";
import { nowMs, waitWord } from "./clock";
import {
  livenessPollMs, recordedHolderAlive, selfPid, spinLimit, waitAddress, waitValue, writeHolderRecord,
} from "./context";
import { MUST_WAIT, TIMED_OUT } from "./status";

export const WAIT_ADAPTIVE: i32 = -1;
export const WAIT_SPIN: i32 = -2;

export const STEP_PARK: u32 = 1;
export const STEP_REGISTERED: u32 = 2;
export const STEP_CHECK_PEER: u32 = 4;

export type Step = (offset: u32, arg0: u32, arg1: u32, flags: u32) => i32;
export type Cancel = (offset: u32, arg0: u32) => void;

// How often (in loads) a spinning waiter reads the clock. A clock read is a
// host call (20-100 ns; no allocation, base/clock.ts), so it must stay rare
// next to the loads, which hit the cache until the peer writes.
// @ts-ignore: decorator
@inline const CLOCK_EVERY: i32 = 1024;

/**
 * How long an adaptive waiter spins before it parks (unless
 * context.spinLimit is 0): about one futex wake-up, so that a peer that
 * answers quickly is caught without a syscall on either side.
 */
export const ADAPTIVE_SPIN_MS: f64 = 0.05;

/** Spins while the word at `address` holds `value`: true if it changed, false once `until` passed. */
function spinWhile(address: u32, value: i32, until: f64): bool {
  while (true) {
    for (let i = 0; i < CLOCK_EVERY; i++) {
      // Only load while spinning, to leave the line shared with its writer.
      if (atomic.load<i32>(address) != value) return true;
    }
    if (nowMs() >= until) return false;
  }
}

/**
 * Spins up to CLOCK_EVERY loads in all, stepping whenever the watched word
 * changes, without reading the clock: most quick answers arrive within these
 * loads, so a wait that ends here costs no host call at all.
 */
function spinBriefly(step: Step, offset: u32, arg0: u32, arg1: u32): i32 {
  let budget = CLOCK_EVERY;
  while (budget > 0) {
    const address = waitAddress();
    const value = waitValue();
    while (budget > 0 && atomic.load<i32>(address) == value) budget--;
    const r = step(offset, arg0, arg1, 0);
    if (r != -MUST_WAIT) return r;
  }
  return -MUST_WAIT;
}

/**
 * Probes until the step completes or `until` passes (then -MUST_WAIT); checks
 * the peer every slice if `checkPeer`. `now` is the clock read that set `until`.
 */
function spinUntil(
  step: Step, offset: u32, arg0: u32, arg1: u32, now: f64, until: f64, checkPeer: bool,
): i32 {
  let sliceEnd = checkPeer ? now + livenessPollMs : Infinity;
  while (true) {
    const changed = spinWhile(waitAddress(), waitValue(), until < sliceEnd ? until : sliceEnd);
    let flags: u32 = 0;
    if (!changed) {
      now = nowMs();
      if (now >= until) return -MUST_WAIT;
      flags = STEP_CHECK_PEER;
      sliceEnd = now + livenessPollMs;
    }
    const r = step(offset, arg0, arg1, flags);
    if (r != -MUST_WAIT) return r;
  }
}

/**
 * Runs `step` to completion under the policy `spins`, for at most
 * `timeoutMs` (negative: no limit). Returns the step's result, or
 * -TIMED_OUT after `cancel` has withdrawn any registration.
 */
export function block(
  step: Step, cancel: Cancel, offset: u32, arg0: u32, arg1: u32, timeoutMs: f64, spins: i32,
): i32 {
  let r = step(offset, arg0, arg1, 0);
  if (r != -MUST_WAIT) return r;
  if (timeoutMs == 0) return -TIMED_OUT;
  if (spins == WAIT_SPIN || (spins == WAIT_ADAPTIVE && spinLimit > 0)) {
    r = spinBriefly(step, offset, arg0, arg1);
    if (r != -MUST_WAIT) return r;
  }
  // One clock read sets both the deadline and the spin's end.
  const started = nowMs();
  const deadline = timeoutMs < 0 ? Infinity : started + timeoutMs;
  if (spins == WAIT_SPIN) {
    r = spinUntil(step, offset, arg0, arg1, started, deadline, true);
    return r == -MUST_WAIT ? -TIMED_OUT : r;
  }
  const adaptiveSpin = spins == WAIT_ADAPTIVE && spinLimit > 0;
  if (adaptiveSpin) {
    const until = started + ADAPTIVE_SPIN_MS;
    r = spinUntil(step, offset, arg0, arg1, started, until < deadline ? until : deadline, false);
    if (r != -MUST_WAIT) return r;
  }
  let budget = spins > 0 ? spins : 0;
  // A wait that parks at once (no spin since `started`, one step call ago)
  // takes its first slice from `started` instead of a second clock read: a
  // read is a host call (an FFI clock_gettime under V8), two per parked hop
  // before. The slice is at most livenessPollMs and every later one reads the
  // clock, so the wait still ends by its deadline, late by one step at most.
  let clockFresh = !adaptiveSpin && budget == 0;
  while (budget > 0) {
    const address = waitAddress();
    const value = waitValue();
    while (budget > 0 && atomic.load<i32>(address) == value) budget--;
    if (budget == 0) break;
    r = step(offset, arg0, arg1, 0);
    if (r != -MUST_WAIT) return r;
  }
  let flags = STEP_PARK;
  while (true) {
    r = step(offset, arg0, arg1, flags);
    if (r != -MUST_WAIT) return r;
    // An untimed park needs no clock: the slice alone bounds the sleep.
    const remaining = deadline == Infinity ? Infinity : deadline - (clockFresh ? started : nowMs());
    clockFresh = false;
    if (remaining <= 0) {
      cancel(offset, arg0);
      return -TIMED_OUT;
    }
    const slice = remaining < livenessPollMs ? remaining : livenessPollMs;
    // A sleep that ran its whole slice suggests a peer that is gone: look.
    // The peer may have moved the word since the step registered: then the
    // futex would only fail with EAGAIN (0.85 such calls per parked channel
    // round trip, strace): look again without the syscall.
    const woke = atomic.load<i32>(waitAddress()) != waitValue()
      ? WAIT_NOT_EQUAL
      : waitWord(waitAddress(), waitValue(), slice);
    flags = STEP_PARK | STEP_REGISTERED | (woke == WAIT_TIMED_OUT ? STEP_CHECK_PEER : 0);
  }
}

export const ROLE_TAKEN: i32 = 0;
export const ROLE_TAKEN_OVER: i32 = 1;
export const ROLE_ALREADY_OURS: i32 = 2;
export const ROLE_BUSY: i32 = -1;
// @ts-ignore: decorator
@inline const CLAIM_ATTEMPTS: i32 = 64;

/**
 * Takes a role (producer, consumer, server, client slot) recorded as a pid at
 * `pidAddress`: free (0), already ours, or held by a dead process. Returns
 * ROLE_TAKEN, ROLE_TAKEN_OVER (its holder had died), ROLE_ALREADY_OURS or
 * ROLE_BUSY (a live process holds it).
 */
export function claimRole(pidAddress: u32, recordPidAddress: u32, startAddress: u32): i32 {
  // Bounded: a CAS fails only when another process changed the role word;
  // one that keeps changing it makes the role look busy.
  for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
    const current = atomic.load<u32>(pidAddress);
    if (current == selfPid) return ROLE_ALREADY_OURS;
    const dead = current != 0 && !recordedHolderAlive(recordPidAddress, startAddress, current);
    if (current != 0 && !dead) return ROLE_BUSY;
    if (atomic.cmpxchg<u32>(pidAddress, current, selfPid) != current) continue;
    atomic.store<u32>(recordPidAddress, 0);
    writeHolderRecord(recordPidAddress, startAddress);
    return dead ? ROLE_TAKEN_OVER : ROLE_TAKEN;
  }
  return ROLE_BUSY;
}

/**
 * True if this process holds the role recorded at `pidAddress`: the check
 * that every call of a producer, consumer, server or slot owner makes. A
 * plain read first: the word names this process only after its own claim,
 * and stops naming it only by its own release or a takeover after its death.
 * A plain read that does not say so is read again with an atomic, so no
 * refusal rests on a plain read (i32.atomic.load is a locked instruction in
 * JavaScriptCore; see "Plain loads" in mutex/mutex.ts).
 */
// @ts-ignore: decorator
@inline export function holdsRole(pidAddress: u32): bool {
  return load<u32>(pidAddress) == selfPid || atomic.load<u32>(pidAddress) == selfPid;
}

/** Gives a role up if this process holds it. */
export function releaseRole(pidAddress: u32, recordPidAddress: u32): void {
  if (!holdsRole(pidAddress)) return;
  atomic.store<u32>(recordPidAddress, 0);
  atomic.cmpxchg<u32>(pidAddress, selfPid, 0);
}

/**
 * True if the role holder recorded at `pidAddress` is a dead process; a
 * free role (0) is not dead. With `clear`, a dead holder is removed, so the
 * death is reported once (and not at all if a new holder took the role in
 * the meantime).
 */
export function roleDead(pidAddress: u32, recordPidAddress: u32, startAddress: u32, clear: bool): bool {
  const pid = atomic.load<u32>(pidAddress);
  if (pid == 0 || recordedHolderAlive(recordPidAddress, startAddress, pid)) return false;
  if (!clear) return true;
  if (atomic.cmpxchg<u32>(pidAddress, pid, 0) != pid) return false;
  atomic.cmpxchg<u32>(recordPidAddress, pid, 0);
  return true;
}
