// The rwlock's try, blocking, release and inspection exports (layout and
// protocol: rwlock/layout.ts; the writer's claim and the steps: rwlock/rwlock.ts; the
// readers' side: readers.ts). The blocking calls are the core's one loop
// (base/waiting.ts block()) over the steps.

import { hostWake } from "../base/host";
import { selfPid } from "../base/context";
import { NOT_OWNER, NOT_RECOVERABLE, OK, CORRUPT, WOULD_BLOCK, MUST_WAIT } from "../base/status";
import { block } from "../base/waiting";
import {
  at, CONSISTENCY, CONSISTENT, DRAINING, HOLDER_RECORD_PID, HOLDING, INCONSISTENT, NO_SLOT, PHASE,
  PID_MASK, RETRY, SLOT_WORD, STATE, STATE_NOT_RECOVERABLE, UNRECOVERABLE, WAITERS, slotAt, slotCount,
} from "./layout";
import { leaveSlot, readEnter } from "./readers";
import {
  abandon, BLOCKING_TOKEN, drain, recordHolder, result, rwlockLockCancel, rwlockReadStep,
  rwlockWriteStep, STEP_ATTEMPTS,
} from "./rwlock";


/** Takes the write lock if nobody holds the lock: OK, OWNER_DIED, -WOULD_BLOCK, -NOT_RECOVERABLE, -CORRUPT. */
export function rwlockTryWrite(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.cmpxchg<u32>(a + STATE, 0, selfPid);
  if (w == STATE_NOT_RECOVERABLE) return -NOT_RECOVERABLE;
  if (w != 0) return -WOULD_BLOCK;
  recordHolder(a, false);
  const status = drain(a, offset, false);
  if (status != MUST_WAIT) return result(status);
  abandon(a);
  return -WOULD_BLOCK;
}

/** Takes a read lock if no writer holds or waits: OK, -WOULD_BLOCK, -NOT_RECOVERABLE, -CORRUPT, or
 * OWNER_DIED (a repair was pending: holding exclusively, as rwlockTryWrite). */
export function rwlockTryRead(offset: u32): i32 {
  const a = at(offset);
  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    const entered = readEnter(a, offset);
    if (entered == RETRY) continue;
    if (entered == NO_SLOT) return -WOULD_BLOCK;
    if (entered == WOULD_BLOCK && atomic.load<u32>(a + CONSISTENCY) == INCONSISTENT) {
      const status = rwlockTryWrite(offset);
      // Repaired meanwhile: give the exclusive hold back and read normally.
      if (status == OK) {
        rwlockWriteUnlock(offset);
        continue;
      }
      return status;
    }
    return result(entered);
  }
  return -WOULD_BLOCK;
}

/** Read lock, waiting at most `timeoutMs` (negative: no limit) under the policy `spins`; results as rwlockReadStep, or -TIMED_OUT. */
export function rwlockRead(offset: u32, timeoutMs: f64, spins: i32): i32 {
  const status = rwlockTryRead(offset);
  if (status != -WOULD_BLOCK) return status;
  const r = block(rwlockReadStep, rwlockLockCancel, offset, BLOCKING_TOKEN, 0, timeoutMs, spins);
  // block() cancels only registrations of parked steps; a claim that a
  // probing step made (timeout 0, or spinning) is given up here.
  if (r < 0) rwlockLockCancel(offset, BLOCKING_TOKEN);
  return r;
}

/**
 * Write lock, waiting at most `timeoutMs` (negative: no limit) under the
 * policy `spins`: OK, OWNER_DIED, -TIMED_OUT, -NOT_RECOVERABLE, or -CORRUPT.
 * A writer that times out gives its claim up.
 */
export function rwlockWrite(offset: u32, timeoutMs: f64, spins: i32): i32 {
  const r = block(rwlockWriteStep, rwlockLockCancel, offset, BLOCKING_TOKEN, 0, timeoutMs, spins);
  // As in rwlockRead: a claim a probing step made is given up on failure.
  if (r < 0) rwlockLockCancel(offset, BLOCKING_TOKEN);
  return r;
}

/** Releases one read hold of this process: OK, -NOT_OWNER if it holds none, or -CORRUPT. */
export function rwlockReadUnlock(offset: u32): i32 {
  const a = at(offset);
  const n = slotCount(a, offset);
  if (n == 0) return -CORRUPT;
  for (let i: u32 = 0, index = selfPid % n; i < n; i++, index = index + 1 == n ? 0 : index + 1) {
    const slot = slotAt(a, index);
    const w = atomic.load<u64>(slot + SLOT_WORD);
    if (<u32>(w >> 32) == selfPid && <u32>w != 0) {
      leaveSlot(a, slot);
      return OK;
    }
  }
  return -NOT_OWNER;
}

/** Releases the write lock (or an exclusive OWNER_DIED read): OK or -NOT_OWNER. */
export function rwlockWriteUnlock(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w == STATE_NOT_RECOVERABLE || (w & PID_MASK) != selfPid) return -NOT_OWNER;
  if (atomic.load<u32>(a + PHASE) != HOLDING) return -NOT_OWNER;
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

/** After OWNER_DIED: the protected state is repaired. OK, -NOT_OWNER or -NOT_RECOVERABLE. */
export function rwlockConsistent(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + STATE);
  if (w == STATE_NOT_RECOVERABLE) return -NOT_RECOVERABLE;
  if ((w & PID_MASK) != selfPid || atomic.load<u32>(a + PHASE) != HOLDING) return -NOT_OWNER;
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
