// The writer's side of the rwlock and its exports (layout and protocol:
// rwlock_layout.ts; the readers' side: rwlock_readers.ts). A writer claims
// `state` (one writer at a time, which keeps new readers out), then drains:
// waits on `exits` until every reader slot counts 0.

import { hostNowMs, hostWait, hostWake, WAIT_TIMED_OUT } from "./host";
import {
  livenessPollMs, recordedHolderAlive, requestWait, selfPid, spinLimit, waitAddress, waitValue,
  writeHolderRecord,
} from "./context";
import {
  CORRUPT, MUST_WAIT, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED, TIMED_OUT, WOULD_BLOCK,
} from "./status";
import {
  at, CLAIMED, CONSISTENCY, CONSISTENT, DRAINING, EXITS, HOLDER_RECORD_PID, HOLDER_START, HOLDING,
  INCONSISTENT, NO_SLOT, PHASE, PID_MASK, RETRY, RWLOCK_HEADER, RWLOCK_MAX_READERS, RWLOCK_SLOT_SIZE,
  SLOT_COUNT, SLOT_WORD, STATE, STATE_NOT_RECOVERABLE, UNRECOVERABLE, WAITERS, slotAt, slotCount,
} from "./rwlock_layout";
import {
  armExits, leaveSlot, openToReaders, readEnter, readersPresent, reapDead,
} from "./rwlock_readers";

export {
  RWLOCK_DEFAULT_READERS, RWLOCK_HEADER, RWLOCK_MAX_READERS, RWLOCK_SLOT_SIZE,
} from "./rwlock_layout";

/** True after a step returned MUST_WAIT while holding the writer claim (see rwlockStepClaimed). */
let stepClaimed = false;

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

function recordHolder(a: u32, dirty: bool): void {
  writeHolderRecord(a + HOLDER_RECORD_PID, a + HOLDER_START);
  // INCONSISTENT goes before DRAINING: a taker that dies in between must
  // still leave a lock that the next one repairs.
  if (dirty) atomic.store<u32>(a + CONSISTENCY, INCONSISTENT);
  atomic.store<u32>(a + PHASE, DRAINING);
}

/** Gives up a claim that never reached HOLDING; consistency is left as it is. */
function abandon(a: u32): void {
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
  while (true) {
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
}

/** With the claim held: waits for readers to leave. OK / OWNER_DIED (holding), MUST_WAIT or CORRUPT. */
function drain(a: u32, offset: u32, checkHolder: bool): i32 {
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
      stepClaimed = true;
      return MUST_WAIT;
    }
  }
  atomic.store<u32>(a + PHASE, HOLDING);
  return atomic.load<u32>(a + CONSISTENCY) == INCONSISTENT ? OWNER_DIED : OK;
}

// ─── exports: steps ──────────────────────────────────────────────────────

/**
 * One step of a read lock, for hosts that wait asynchronously. Returns OK
 * (reading), OWNER_DIED (took over from a dead writer: holding EXCLUSIVELY,
 * release with rwlockWriteUnlock), NOT_RECOVERABLE, CORRUPT, or MUST_WAIT
 * (wait on waitAddress() for waitValue(); if rwlockStepClaimed() is 1,
 * continue with rwlockDrainStep, and on giving up call rwlockAbandon).
 */
export function rwlockReadStep(offset: u32, checkHolder: bool): i32 {
  stepClaimed = false;
  const a = at(offset);
  while (true) {
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
        return MUST_WAIT;
      }
      if (entered == RETRY) continue;
    }
    if (entered != WOULD_BLOCK) return entered;
    const claimed = claim(a, checkHolder, true);
    if (claimed == RETRY) continue;
    if (claimed == CLAIMED) return drain(a, offset, false);
    return claimed;
  }
}

/** One step of a write lock; the results are those of rwlockReadStep (OWNER_DIED: repair). */
export function rwlockWriteStep(offset: u32, checkHolder: bool): i32 {
  stepClaimed = false;
  const a = at(offset);
  const claimed = claim(a, checkHolder, false);
  if (claimed != CLAIMED) return claimed;
  return drain(a, offset, false);
}

/** The step after a MUST_WAIT with rwlockStepClaimed(): waits for readers to leave. */
export function rwlockDrainStep(offset: u32, checkHolder: bool): i32 {
  stepClaimed = false;
  return drain(at(offset), offset, checkHolder);
}

/** 1 if the last step returned MUST_WAIT while holding the writer claim (still draining). */
export function rwlockStepClaimed(): i32 {
  return stepClaimed ? 1 : 0;
}

/** Gives up a claim left by a MUST_WAIT step with rwlockStepClaimed(). */
export function rwlockAbandon(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w == STATE_NOT_RECOVERABLE || (w & PID_MASK) != selfPid) return NOT_OWNER;
  if (atomic.load<u32>(a + PHASE) != DRAINING) return NOT_OWNER;
  abandon(a);
  return OK;
}

// ─── exports: try, blocking, release ─────────────────────────────────────

/** Takes the write lock if nobody holds the lock: OK, OWNER_DIED, WOULD_BLOCK, NOT_RECOVERABLE, CORRUPT. */
export function rwlockTryWrite(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.cmpxchg<u32>(a + STATE, 0, selfPid);
  if (w == STATE_NOT_RECOVERABLE) return NOT_RECOVERABLE;
  if (w != 0) return WOULD_BLOCK;
  recordHolder(a, false);
  const status = drain(a, offset, false);
  if (status != MUST_WAIT) return status;
  stepClaimed = false;
  abandon(a);
  return WOULD_BLOCK;
}

/** Takes a read lock if no writer holds or waits: OK, WOULD_BLOCK, NOT_RECOVERABLE, CORRUPT, or
 * OWNER_DIED (a repair was pending: holding exclusively, as rwlockTryWrite). */
export function rwlockTryRead(offset: u32): i32 {
  const a = at(offset);
  while (true) {
    const entered = readEnter(a, offset);
    if (entered == RETRY) continue;
    if (entered == NO_SLOT) return WOULD_BLOCK;
    if (entered == WOULD_BLOCK && atomic.load<u32>(a + CONSISTENCY) == INCONSISTENT) {
      const status = rwlockTryWrite(offset);
      // Repaired meanwhile: give the exclusive hold back and read normally.
      if (status == OK) {
        rwlockWriteUnlock(offset);
        continue;
      }
      return status;
    }
    return entered;
  }
}

function lockBlocking(offset: u32, timeoutMs: f64, reader: bool): i32 {
  const a = at(offset);
  if (reader) {
    // Spin briefly for a writer to finish; only load, to spare its cache line.
    for (let i = 0; i < spinLimit; i++) {
      if (openToReaders(a)) {
        const status = rwlockTryRead(offset);
        if (status != WOULD_BLOCK) return status;
      }
    }
  }
  let deadline: f64 = -1;
  let checkHolder = false;
  let claimed = false;
  while (true) {
    const status = claimed
      ? rwlockDrainStep(offset, checkHolder)
      : reader ? rwlockReadStep(offset, checkHolder) : rwlockWriteStep(offset, checkHolder);
    if (status != MUST_WAIT) return status;
    claimed = stepClaimed;
    // The clock is read only once the lock is contended.
    if (deadline < 0) deadline = timeoutMs < 0 ? Infinity : hostNowMs() + timeoutMs;
    const remaining = deadline - hostNowMs();
    if (remaining <= 0) {
      if (claimed) abandon(a);
      stepClaimed = false;
      return TIMED_OUT;
    }
    const slice = remaining < livenessPollMs ? remaining : livenessPollMs;
    // A sleep that ran its whole slice: time to look for dead holders.
    checkHolder = hostWait(waitAddress(), waitValue(), slice) == WAIT_TIMED_OUT;
  }
}

/** Read lock, waiting at most `timeoutMs` (negative: no limit); results as rwlockReadStep, or TIMED_OUT. */
export function rwlockRead(offset: u32, timeoutMs: f64): i32 {
  const status = rwlockTryRead(offset);
  if (status != WOULD_BLOCK) return status;
  return lockBlocking(offset, timeoutMs, true);
}

/**
 * Write lock, waiting at most `timeoutMs` (negative: no limit): OK, OWNER_DIED,
 * TIMED_OUT, NOT_RECOVERABLE, or CORRUPT.
 */
export function rwlockWrite(offset: u32, timeoutMs: f64): i32 {
  return lockBlocking(offset, timeoutMs, false);
}

/** Releases one read hold of this process: OK, NOT_OWNER if it holds none, or CORRUPT. */
export function rwlockReadUnlock(offset: u32): i32 {
  const a = at(offset);
  const n = slotCount(a, offset);
  if (n == 0) return CORRUPT;
  for (let i: u32 = 0, index = selfPid % n; i < n; i++, index = index + 1 == n ? 0 : index + 1) {
    const slot = slotAt(a, index);
    const w = atomic.load<u64>(slot + SLOT_WORD);
    if (<u32>(w >> 32) == selfPid && <u32>w != 0) {
      leaveSlot(a, slot);
      return OK;
    }
  }
  return NOT_OWNER;
}

/** Releases the write lock (or an exclusive OWNER_DIED read): OK or NOT_OWNER. */
export function rwlockWriteUnlock(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w == STATE_NOT_RECOVERABLE || (w & PID_MASK) != selfPid) return NOT_OWNER;
  if (atomic.load<u32>(a + PHASE) != HOLDING) return NOT_OWNER;
  atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
  atomic.store<u32>(a + PHASE, DRAINING);
  if (atomic.load<u32>(a + CONSISTENCY) == INCONSISTENT) {
    // Released without repair: nobody may trust what it protects any more.
    atomic.store<u32>(a + CONSISTENCY, UNRECOVERABLE);
    atomic.store<u32>(a + STATE, STATE_NOT_RECOVERABLE);
    hostWake(a + STATE, i32.MAX_VALUE);
    return OK;
  }
  // SYNC: release; what the writer wrote becomes visible to the next reader
  // (its seq_cst load of `state`) and to the next writer (its CAS).
  const old = atomic.xchg<u32>(a + STATE, 0);
  if ((old & WAITERS) != 0) hostWake(a + STATE, i32.MAX_VALUE);
  return OK;
}

/** After OWNER_DIED: the protected state is repaired. OK, NOT_OWNER or NOT_RECOVERABLE. */
export function rwlockConsistent(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w == STATE_NOT_RECOVERABLE) return NOT_RECOVERABLE;
  if ((w & PID_MASK) != selfPid || atomic.load<u32>(a + PHASE) != HOLDING) return NOT_OWNER;
  atomic.store<u32>(a + CONSISTENCY, CONSISTENT);
  return OK;
}

/** The pid of the writer (holding or draining), 0 if none, -1 if not recoverable. */
export function rwlockWriter(offset: u32): i32 {
  const w = atomic.load<u32>(at(offset) + STATE);
  return w == STATE_NOT_RECOVERABLE ? -1 : <i32>(w & PID_MASK);
}

/** The number of read holds now, over all processes (for inspection; -1 if corrupt). */
export function rwlockReaders(offset: u32): i32 {
  const a = at(offset);
  const n = slotCount(a, offset);
  if (n == 0) return -1;
  let total: u64 = 0;
  for (let i: u32 = 0; i < n; i++) total += <u32>atomic.load<u64>(slotAt(a, i) + SLOT_WORD);
  return total > <u64>i32.MAX_VALUE ? i32.MAX_VALUE : <i32>total;
}

/** The number of reader slots (processes that can read at once). */
export function rwlockReaderSlots(offset: u32): u32 {
  return slotCount(at(offset), offset);
}
