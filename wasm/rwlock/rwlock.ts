// The writer's side of the rwlock and its exports (layout and protocol:
// rwlock/layout.ts; the readers' side: rwlock/readers.ts). A writer claims
// `state` (one writer at a time, which keeps new readers out), then drains:
// waits on `exits` until every reader slot counts 0.

import { hostWake } from "../base/host";
import { recordedHolderAlive, requestWait, selfPid, writeHolderRecord } from "../base/context";
import { DIR_CAPACITY } from "../segment/layout";
import {
  CORRUPT, MUST_WAIT, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED, WOULD_BLOCK,
} from "../base/status";
import { block, STEP_CHECK_PEER } from "../base/waiting";
import {
  at, CLAIMED, CONSISTENCY, CONSISTENT, DRAINING, EXITS, HOLDER_RECORD_PID, HOLDER_START, HOLDING,
  INCONSISTENT, NO_SLOT, PHASE, PID_MASK, RETRY, RWLOCK_HEADER, RWLOCK_MAX_READERS, RWLOCK_SLOT_SIZE,
  SLOT_COUNT, SLOT_WORD, STATE, STATE_NOT_RECOVERABLE, UNRECOVERABLE, WAITERS, slotAt, slotCount,
} from "./layout";
import {
  armExits, leaveSlot, openToReaders, readEnter, readersPresent, reapDead,
} from "./readers";

export {
  RWLOCK_DEFAULT_READERS, RWLOCK_HEADER, RWLOCK_MAX_READERS, RWLOCK_SLOT_SIZE,
} from "./layout";

// Which call of this process holds a writer claim that is still draining.
// A step that claims the writer word and must wait for readers to leave
// keeps the claim; its caller's later steps (with the same `token`, the
// caller's own number for that call) continue draining, and its cancel
// gives the claim up. The token is what tells two calls of one process
// apart (both see their own pid in the word). Private (page 0): one row
// (offset u32, token u32) per object that can exist.
const drainClaims: usize = memory.data(DIR_CAPACITY * 8);
/** CAS rounds a step makes before it lets its caller wait (a bound against a peer that keeps changing words). */
// @ts-ignore: decorator
@inline export const STEP_ATTEMPTS: i32 = 64;
/** The token the in-core blocking calls use (rwlockRead, rwlockWrite); hosts use others. */
// @ts-ignore: decorator
@inline export const BLOCKING_TOKEN: u32 = 0xFFFFFFFF;

function claimRow(offset: u32): usize {
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    const row = drainClaims + i * 8;
    if (load<u32>(row) == offset) return row;
  }
  return 0;
}

function claimToken(offset: u32): u32 {
  const row = claimRow(offset);
  return row == 0 ? 0 : load<u32>(row + 4);
}

function setClaimToken(offset: u32, token: u32): void {
  let row = claimRow(offset);
  if (row == 0) row = claimRow(0);
  if (row == 0) return; // every row taken: cannot happen, one per object
  store<u32>(row, offset);
  store<u32>(row + 4, token);
}

function clearClaimToken(offset: u32): void {
  const row = claimRow(offset);
  if (row != 0) store<u64>(row, 0);
}

/** An internal outcome in the step contract's convention: OK / OWNER_DIED, else negated. */
// @ts-ignore: decorator
@inline export function result(status: i32): i32 {
  return status == OK || status == OWNER_DIED ? status : -status;
}

export function rwlockSize(readers: u32): u32 {
  return readers == 0 || readers > RWLOCK_MAX_READERS ? 0 : RWLOCK_HEADER + readers * RWLOCK_SLOT_SIZE;
}

export function rwlockInit(offset: u32, readers: u32): void {
  store<u32>(at(offset) + SLOT_COUNT, readers);
}

/** A structural check of an rwlock found in a segment being opened. */
export function rwlockValidate(offset: u32, size: u32): bool {
  const a = at(offset);
  const n = load<u32>(a + SLOT_COUNT);
  return rwlockSize(n) != 0 && rwlockSize(n) <= size && load<u32>(a + CONSISTENCY) <= UNRECOVERABLE &&
    load<u32>(a + PHASE) <= HOLDING;
}

export function recordHolder(a: u32, dirty: bool): void {
  writeHolderRecord(a + HOLDER_RECORD_PID, a + HOLDER_START);
  // INCONSISTENT goes before DRAINING: a taker that dies in between must
  // still leave a lock that the next one repairs.
  if (dirty) atomic.store<u32>(a + CONSISTENCY, INCONSISTENT);
  atomic.store<u32>(a + PHASE, DRAINING);
}

/** Gives up a claim that never reached HOLDING; consistency is left as it is. */
export function abandon(a: u32): void {
  atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
  // SYNC: release; pairs with the CAS of the next claimer or reader.
  const old = atomic.xchg<u32>(a + STATE, 0);
  if ((old & WAITERS) != 0) hostWake(a + STATE, i32.MAX_VALUE);
}

/**
 * Claims the writer word: CLAIMED, MUST_WAIT (on `state`), NOT_RECOVERABLE,
 * or for a reader RETRY (no writer any more, or a dead one was cleared).
 * `reader` claims only to repair: on an INCONSISTENT lock or a dead HOLDING writer.
 */
function claim(a: u32, checkHolder: bool, reader: bool): i32 {
  let w = atomic.load<u32>(a + STATE);
  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    if (w == STATE_NOT_RECOVERABLE) return NOT_RECOVERABLE;
    if (w == 0) {
      if (reader && atomic.load<u32>(a + CONSISTENCY) != INCONSISTENT) return RETRY;
      const old = atomic.cmpxchg<u32>(a + STATE, 0, selfPid);
      if (old == 0) {
        recordHolder(a, false);
        return CLAIMED;
      }
      w = old;
      continue;
    }
    if (checkHolder && !recordedHolderAlive(a + HOLDER_RECORD_PID, a + HOLDER_START, w & PID_MASK)) {
      // A writer that died DRAINING on a consistent lock never wrote anything.
      const clean = atomic.load<u32>(a + PHASE) == DRAINING &&
        atomic.load<u32>(a + CONSISTENCY) == CONSISTENT;
      if (reader && clean) {
        atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
        const old = atomic.cmpxchg<u32>(a + STATE, w, 0);
        if (old == w) {
          if ((w & WAITERS) != 0) hostWake(a + STATE, i32.MAX_VALUE);
          return RETRY;
        }
        w = old;
        continue;
      }
      // Keep WAITERS: the dead writer's sleepers still need our release.
      const old = atomic.cmpxchg<u32>(a + STATE, w, selfPid | (w & WAITERS));
      if (old == w) {
        recordHolder(a, !clean);
        return CLAIMED;
      }
      w = old;
      continue;
    }
    if ((w & WAITERS) == 0) {
      const old = atomic.cmpxchg<u32>(a + STATE, w, w | WAITERS);
      if (old != w) {
        w = old;
        continue;
      }
    }
    requestWait(a + STATE, <i32>(w | WAITERS));
    return MUST_WAIT;
  }
  requestWait(a + STATE, <i32>w);
  return MUST_WAIT;
}

/** With the claim held: waits for readers to leave. OK / OWNER_DIED (holding), MUST_WAIT or CORRUPT. */
export function drain(a: u32, offset: u32, checkHolder: bool): i32 {
  const n = slotCount(a, offset);
  if (n == 0) {
    abandon(a);
    return CORRUPT;
  }
  if (readersPresent(a, n)) {
    if (checkHolder) reapDead(a, n);
    const x = armExits(a);
    // SYNC: seq_cst after SLEEPING is set; a leaving reader counts down before
    // it reads `exits`, so it either shows up here as gone or wakes us.
    if (readersPresent(a, n)) {
      requestWait(a + EXITS, <i32>x);
      return MUST_WAIT;
    }
  }
  atomic.store<u32>(a + PHASE, HOLDING);
  return atomic.load<u32>(a + CONSISTENCY) == INCONSISTENT ? OWNER_DIED : OK;
}

// ─── exports: steps (the step contract of base/waiting.ts) ────────────────────

/** Continues the drain of the claim that the call `token` holds; then it is held, given up or still draining. */
function continueDrain(a: u32, offset: u32, token: u32, flags: u32): i32 {
  const status = drain(a, offset, (flags & STEP_CHECK_PEER) != 0);
  if (status != MUST_WAIT) clearClaimToken(offset);
  return result(status);
}

/** Drains after a fresh claim; a claim that must wait is kept for the call `token`. */
function drainClaimed(a: u32, offset: u32, token: u32): i32 {
  const status = drain(a, offset, false);
  if (status == MUST_WAIT) setClaimToken(offset, token);
  return result(status);
}

/**
 * One step of a read lock for the call `token` (a non-zero number of the
 * caller's choosing, the same for every step of one call). Returns OK
 * (reading), OWNER_DIED (took over from a dead writer: holding EXCLUSIVELY,
 * release with rwlockWriteUnlock), -NOT_RECOVERABLE, -CORRUPT, or -MUST_WAIT
 * (wait on waitAddress() for waitValue(), then step again; a caller that
 * gives up calls rwlockLockCancel with the same token). Waiters register
 * with sticky bits, so the step registers whatever STEP_PARK says; with
 * STEP_CHECK_PEER a dead writer is taken over and dead readers are freed.
 */
export function rwlockReadStep(offset: u32, token: u32, unused: u32, flags: u32): i32 {
  const a = at(offset);
  if (token != 0 && claimToken(offset) == token) return continueDrain(a, offset, token, flags);
  const checkHolder = (flags & STEP_CHECK_PEER) != 0;
  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    let entered = readEnter(a, offset);
    if (entered == RETRY) continue;
    if (entered == NO_SLOT) {
      // Every slot belongs to a live reader: wait for one to leave.
      if (checkHolder && reapDead(a, slotCount(a, offset)) > 0) continue;
      const x = armExits(a);
      // SYNC: seq_cst after SLEEPING is set; a reader that frees its count
      // reads `exits` after, so we see its slot idle or it wakes us.
      entered = readEnter(a, offset);
      if (entered == NO_SLOT) {
        requestWait(a + EXITS, <i32>x);
        return -MUST_WAIT;
      }
      if (entered == RETRY) continue;
    }
    if (entered != WOULD_BLOCK) return result(entered);
    const claimed = claim(a, checkHolder, true);
    if (claimed == RETRY) continue;
    if (claimed == CLAIMED) return drainClaimed(a, offset, token);
    return result(claimed);
  }
  requestWait(a + STATE, <i32>atomic.load<u32>(a + STATE));
  return -MUST_WAIT;
}

/** One step of a write lock for the call `token`; the results are those of rwlockReadStep (OWNER_DIED: repair). */
export function rwlockWriteStep(offset: u32, token: u32, unused: u32, flags: u32): i32 {
  const a = at(offset);
  if (token != 0 && claimToken(offset) == token) return continueDrain(a, offset, token, flags);
  const claimed = claim(a, (flags & STEP_CHECK_PEER) != 0, false);
  if (claimed != CLAIMED) return result(claimed);
  return drainClaimed(a, offset, token);
}

/** Gives up what the call `token` left after a -MUST_WAIT step: a writer claim still draining. */
export function rwlockLockCancel(offset: u32, token: u32): void {
  if (token == 0 || claimToken(offset) != token) return;
  clearClaimToken(offset);
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w != STATE_NOT_RECOVERABLE && (w & PID_MASK) == selfPid && atomic.load<u32>(a + PHASE) == DRAINING) {
    abandon(a);
  }
}
