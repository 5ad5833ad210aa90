// Robust futex mutex.
//
// Layout (one cache line, MUTEX_SIZE bytes at a CACHE_LINE-aligned offset):
//
//  0  ┌───────────────────────────────────────────────────────────────┐
//     │ word u32: 0 = free, else holderPid | WAITERS bit (bit 31),    │
//     │           or WORD_NOT_RECOVERABLE                             │
//  4  │ consistency u32: CONSISTENT | INCONSISTENT | UNRECOVERABLE    │
//  8  │ holderStartTicks u64   (written by the holder after acquiring)│
//  16 │ holderRecordPid u32    (the pid the start time belongs to)    │
//  20 │ acquisitions u32       (diagnostics only, wraps)              │
//     └───────────────────────────────────────────────────────────────┘
//
// Who writes what: `word` is only changed by compare-and-swap (to acquire, to
// set WAITERS, to take over from a dead holder) or by the holder's swap to 0
// on release. The holder alone writes the record fields and `consistency`.
//
// Robustness (the semantics of pthread robust mutexes): a waiter whose sleep
// times out checks whether the holder's process still exists (pid plus start
// time, so a reused pid does not count). If it died, the waiter takes the lock
// over and gets OWNER_DIED; the lock is then INCONSISTENT. The new holder
// repairs what the lock protects and calls mutexConsistent(); if it unlocks
// without doing so, the lock becomes NOT_RECOVERABLE for everybody.
//
// Publish order on acquire: CAS word (acquire) -> record start ticks -> record
// pid. On release: clear record pid -> swap word to 0 (release) -> wake one if
// WAITERS was set. WAITERS is sticky until release, so a release never skips a
// sleeper; a woken waiter re-acquires with WAITERS set because it cannot know
// whether others still sleep (the classic three-state futex mutex).

import { SEGMENT_BASE } from "./layout";
import { hostNowMs, hostWait, hostWake, WAIT_TIMED_OUT } from "./host";
import {
  livenessPollMs, recordedHolderAlive, requestWait, selfPid, spinLimit, waitAddress, waitValue,
  writeHolderRecord,
} from "./context";
import {
  MUST_WAIT, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED, TIMED_OUT, WOULD_BLOCK,
} from "./status";

export const MUTEX_SIZE: u32 = 64;

// @ts-ignore: decorator
@inline const WORD: u32 = 0;
// @ts-ignore: decorator
@inline const CONSISTENCY: u32 = 4;
// @ts-ignore: decorator
@inline const HOLDER_START: u32 = 8;
// @ts-ignore: decorator
@inline const HOLDER_RECORD_PID: u32 = 16;
// @ts-ignore: decorator
@inline const ACQUISITIONS: u32 = 20;

// @ts-ignore: decorator
@inline const WAITERS: u32 = 0x80000000;
// @ts-ignore: decorator
@inline const PID_MASK: u32 = 0x3FFFFFFF;
/** Larger than any Linux pid (PID_MAX_LIMIT is 2^22), so no holder has it. */
// @ts-ignore: decorator
@inline const WORD_NOT_RECOVERABLE: u32 = 0x3FFFFFFF;

export const CONSISTENT: u32 = 0;
export const INCONSISTENT: u32 = 1;
export const UNRECOVERABLE: u32 = 2;

// @ts-ignore: decorator
@inline function at(offset: u32): u32 {
  return SEGMENT_BASE + offset;
}

export function mutexInit(offset: u32): void {
  memory.fill(at(offset), 0, MUTEX_SIZE);
}

function recordHolder(a: u32, previousHolderDied: bool): i32 {
  writeHolderRecord(a + HOLDER_RECORD_PID, a + HOLDER_START);
  store<u32>(a + ACQUISITIONS, load<u32>(a + ACQUISITIONS) + 1);
  if (previousHolderDied) {
    store<u32>(a + CONSISTENCY, INCONSISTENT);
    return OWNER_DIED;
  }
  // A holder that itself took the lock over and died leaves INCONSISTENT
  // behind; the next holder inherits the duty to repair.
  return load<u32>(a + CONSISTENCY) == INCONSISTENT ? OWNER_DIED : OK;
}

/** Takes the lock if it is free: OK, OWNER_DIED (taken, must repair), WOULD_BLOCK or NOT_RECOVERABLE. */
export function mutexTryLock(offset: u32): i32 {
  const a = at(offset);
  // SYNC: acquire; pairs with the release swap in mutexUnlock.
  const old = atomic.cmpxchg<u32>(a + WORD, 0, selfPid);
  if (old == 0) return recordHolder(a, false);
  if (old == WORD_NOT_RECOVERABLE) return NOT_RECOVERABLE;
  return WOULD_BLOCK;
}

/**
 * One step of a contended acquisition, for hosts that wait asynchronously:
 * acquires (OK / OWNER_DIED), fails (NOT_RECOVERABLE), or registers as a
 * waiter and returns MUST_WAIT with the word and value to wait on. With
 * `checkHolder` set, a holder whose process is gone is taken over.
 */
export function mutexLockStep(offset: u32, checkHolder: bool): i32 {
  const a = at(offset);
  let w = atomic.load<u32>(a + WORD);
  while (true) {
    if (w == WORD_NOT_RECOVERABLE) return NOT_RECOVERABLE;
    if (w == 0) {
      const old = atomic.cmpxchg<u32>(a + WORD, 0, selfPid | WAITERS);
      if (old == 0) return recordHolder(a, false);
      w = old;
      continue;
    }
    const holder = w & PID_MASK;
    if (checkHolder && !recordedHolderAlive(a + HOLDER_RECORD_PID, a + HOLDER_START, holder)) {
      const old = atomic.cmpxchg<u32>(a + WORD, w, selfPid | WAITERS);
      if (old == w) return recordHolder(a, true);
      w = old;
      continue;
    }
    if ((w & WAITERS) == 0) {
      const old = atomic.cmpxchg<u32>(a + WORD, w, w | WAITERS);
      if (old != w) { w = old; continue; }
    }
    requestWait(a + WORD, <i32>(w | WAITERS));
    return MUST_WAIT;
  }
}

function lockContended(a: u32, offset: u32, timeoutMs: f64): i32 {
  // Only load while spinning, to be easier on the cache line the holder owns.
  for (let i = 0; i < spinLimit; i++) {
    const w = atomic.load<u32>(a + WORD);
    if (w == 0) {
      if (atomic.cmpxchg<u32>(a + WORD, 0, selfPid) == 0) return recordHolder(a, false);
    } else if (w == WORD_NOT_RECOVERABLE) {
      return NOT_RECOVERABLE;
    }
  }
  const deadline = timeoutMs < 0 ? Infinity : hostNowMs() + timeoutMs;
  let checkHolder = false;
  while (true) {
    const status = mutexLockStep(offset, checkHolder);
    if (status != MUST_WAIT) return status;
    const remaining = deadline - hostNowMs();
    if (remaining <= 0) return TIMED_OUT;
    const slice = remaining < livenessPollMs ? remaining : livenessPollMs;
    // A sleep that ran its whole slice suggests a holder that is gone: look.
    checkHolder = hostWait(waitAddress(), waitValue(), slice) == WAIT_TIMED_OUT;
  }
}

/**
 * Acquires the lock, waiting at most `timeoutMs` (negative: no limit).
 * Returns OK, OWNER_DIED (acquired; repair, then mutexConsistent), TIMED_OUT
 * or NOT_RECOVERABLE.
 */
export function mutexLock(offset: u32, timeoutMs: f64): i32 {
  const a = at(offset);
  if (atomic.cmpxchg<u32>(a + WORD, 0, selfPid) == 0) return recordHolder(a, false);
  return lockContended(a, offset, timeoutMs);
}

/** Releases the lock; NOT_OWNER if this process does not hold it. */
export function mutexUnlock(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + WORD);
  if (w == WORD_NOT_RECOVERABLE || (w & PID_MASK) != selfPid) return NOT_OWNER;
  if (load<u32>(a + CONSISTENCY) == INCONSISTENT) {
    // Released without repair: nobody may trust what it protects any more.
    store<u32>(a + CONSISTENCY, UNRECOVERABLE);
    atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
    atomic.store<u32>(a + WORD, WORD_NOT_RECOVERABLE);
    hostWake(a + WORD, i32.MAX_VALUE);
    return OK;
  }
  atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
  // SYNC: release; everything written while holding becomes visible to the
  // next holder's acquiring compare-and-swap.
  const old = atomic.xchg<u32>(a + WORD, 0);
  if ((old & WAITERS) != 0) hostWake(a + WORD, 1);
  return OK;
}

/** Marks the state protected by a lock taken with OWNER_DIED as repaired. */
export function mutexConsistent(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + WORD);
  if (w == WORD_NOT_RECOVERABLE) return NOT_RECOVERABLE;
  if ((w & PID_MASK) != selfPid) return NOT_OWNER;
  store<u32>(a + CONSISTENCY, CONSISTENT);
  return OK;
}

/** The pid of the holder, 0 if free, -1 if not recoverable (for inspection). */
export function mutexHolder(offset: u32): i32 {
  const w = atomic.load<u32>(at(offset) + WORD);
  if (w == WORD_NOT_RECOVERABLE) return -1;
  return <i32>(w & PID_MASK);
}

/** 1 if some process has registered as a sleeper since the last release. */
export function mutexHasWaiters(offset: u32): i32 {
  return (atomic.load<u32>(at(offset) + WORD) & WAITERS) != 0 ? 1 : 0;
}

/** A structural check of a mutex found in a segment being opened. */
export function mutexValidate(offset: u32, size: u32): bool {
  if (size < MUTEX_SIZE) return false;
  return load<u32>(at(offset) + CONSISTENCY) <= UNRECOVERABLE;
}
