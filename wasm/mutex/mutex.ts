// Robust futex mutex.
//
// Layout (one cache line, MUTEX_SIZE bytes at a CACHE_LINE-aligned offset):
//
//  0  ┌───────────────────────────────────────────────────────────────┐
//     │ word u32: 0 = free, else holderPid | WAITERS bit (bit 31),    │
//     │           or WORD_NOT_RECOVERABLE            (the futex word) │
//  4  │ generation u32: +1 with every acquisition (never reset)       │
//     │   word and generation are one u64, the LOCK, changed by CAS   │
//  8  │ holderStartTicks u64   (written by the holder after acquiring)│
//  16 │ holderRecordPid u32    (the pid the start time belongs to)    │
//  20 │ holderRecordGeneration u32 (the acquisition it belongs to)    │
//  24 │ consistency u32: CONSISTENT | INCONSISTENT | UNRECOVERABLE    │
//     └───────────────────────────────────────────────────────────────┘
//
// Who writes what: the LOCK is only changed by 64-bit compare-and-swap (to
// acquire, to set WAITERS, to take over from a dead holder, to release). The
// holder alone writes the record fields and `consistency`.
//
// Why a generation: a waiter that finds the holder dead takes the lock over
// by CAS from the LOCK it observed. With the pid alone, the holder could die,
// another waiter take over and release, and a new process that reused the
// dead pid acquire, all between the observation and the CAS: the word would
// read the same and the CAS would steal a live holder's lock. The generation
// moves with every acquisition, so that CAS fails. Likewise the holder record
// is trusted only for the acquisition (pid and generation) it names, so a
// record left by an earlier holder is never applied to a later one; a holder
// that died before writing its record is checked by pid alone, which can
// only delay a takeover (if the pid was reused), never steal a live lock.
//
// Robustness (the semantics of pthread robust mutexes): a waiter whose sleep
// times out checks whether the holder's process still exists (pid plus start
// time, so a reused pid does not count). If it died, the waiter takes the lock
// over and gets OWNER_DIED; the lock is then INCONSISTENT. The new holder
// repairs what the lock protects and calls mutexConsistent(); if it unlocks
// without doing so, the lock becomes NOT_RECOVERABLE for everybody.
//
// Publish order on acquire: CAS LOCK (acquire) -> record start ticks ->
// record generation -> record pid. On release: clear record pid -> CAS LOCK
// to word 0 (release) -> wake one if WAITERS was set. WAITERS is sticky until
// release, so a release never skips a sleeper; a woken waiter re-acquires
// with WAITERS set because it cannot know whether others still sleep (the
// classic three-state futex mutex).
//
// Plain loads: on the fast paths the LOCK is read with a plain load, as a
// guess. Where the guess is right, all that follows is a CAS from it (which
// fails on a stale guess and returns the current LOCK), or this process's
// check of its own hold (the word names this process only after its own
// acquiring CAS, and stops only by its own release or a takeover after its
// death). Where the guess says anything else (held by another, not ours),
// the word is read again with a sequentially consistent atomic before
// anything is decided, so every other path sees what it saw before. The
// reason is cost: JavaScriptCore compiles i32.atomic.load as a locked
// instruction, about 6 ns like a CAS, where V8 and C make it a plain load
// (bench/primitives.ts, bench/README.md); a classic channel's round trip made
// 22 of them. The models (model/mutex.pml) take every load as one step
// either way.

import { SEGMENT_BASE, at } from "../segment/layout";
import { hostWake } from "../base/host";
import { processAlive, requestWait, selfPid, selfStartTicks } from "../base/context";
import { MUST_WAIT, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED, WOULD_BLOCK } from "../base/status";
import { block, STEP_CHECK_PEER, STEP_PARK } from "../base/waiting";

export const MUTEX_SIZE: u32 = 64;

// @ts-ignore: decorator
@inline const WORD: u32 = 0;
/** The u64 of word (low half) and generation (high half). */
// @ts-ignore: decorator
@inline const LOCK: u32 = 0;
// @ts-ignore: decorator
@inline const GENERATION: u32 = 4;
// @ts-ignore: decorator
@inline const HOLDER_START: u32 = 8;
// @ts-ignore: decorator
@inline const HOLDER_RECORD_PID: u32 = 16;
// @ts-ignore: decorator
@inline const HOLDER_RECORD_GENERATION: u32 = 20;
// @ts-ignore: decorator
@inline const CONSISTENCY: u32 = 24;

// @ts-ignore: decorator
@inline const WAITERS: u32 = 0x80000000;
// @ts-ignore: decorator
@inline const PID_MASK: u32 = 0x3FFFFFFF;
/** Larger than any Linux pid (PID_MAX_LIMIT is 2^22), so no holder has it. */
// @ts-ignore: decorator
@inline const WORD_NOT_RECOVERABLE: u32 = 0x3FFFFFFF;

/** How many CAS rounds one lock step makes before it lets the caller wait (a bound against a peer that keeps changing the word). */
// @ts-ignore: decorator
@inline const STEP_ATTEMPTS: i32 = 64;

/** CAS rounds a release makes against a word that keeps changing (legitimately: a few, as WAITERS is set). */
// @ts-ignore: decorator
@inline const REPLACE_ATTEMPTS: i32 = 4096;

export const CONSISTENT: u32 = 0;
export const INCONSISTENT: u32 = 1;
export const UNRECOVERABLE: u32 = 2;


export function mutexInit(offset: u32): void {
  memory.fill(at(offset), 0, MUTEX_SIZE);
}

// @ts-ignore: decorator
@inline function wordOf(lock: u64): u32 {
  return <u32>lock;
}

// @ts-ignore: decorator
@inline function generationOf(lock: u64): u32 {
  return <u32>(lock >> 32);
}

/** The LOCK after an acquisition of `lock` by `word` (pid | flags): the generation moves on. */
// @ts-ignore: decorator
@inline function acquired(lock: u64, word: u32): u64 {
  return (<u64>(generationOf(lock) + 1) << 32) | <u64>word;
}

function recordHolder(a: u32, generation: u32, previousHolderDied: bool): i32 {
  store<u64>(a + HOLDER_START, selfStartTicks);
  store<u32>(a + HOLDER_RECORD_GENERATION, generation);
  // SYNC: the start time and generation are written before the pid that
  // vouches for them; holderAlive reads the pid before and after them.
  atomic.store<u32>(a + HOLDER_RECORD_PID, selfPid);
  if (previousHolderDied) {
    store<u32>(a + CONSISTENCY, INCONSISTENT);
    return OWNER_DIED;
  }
  // A holder that itself took the lock over and died leaves INCONSISTENT
  // behind; the next holder inherits the duty to repair.
  return load<u32>(a + CONSISTENCY) == INCONSISTENT ? OWNER_DIED : OK;
}

/**
 * Liveness of the holder of the LOCK value `lock`: its start time is used
 * only if the record names this very acquisition (pid and generation, read
 * before and after the start time); without it the pid alone decides.
 */
function holderAlive(a: u32, lock: u64): bool {
  const pid = wordOf(lock) & PID_MASK;
  let startTicks: u64 = 0;
  if (atomic.load<u32>(a + HOLDER_RECORD_PID) == pid &&
      load<u32>(a + HOLDER_RECORD_GENERATION) == generationOf(lock)) {
    startTicks = load<u64>(a + HOLDER_START);
    if (atomic.load<u32>(a + HOLDER_RECORD_PID) != pid ||
        load<u32>(a + HOLDER_RECORD_GENERATION) != generationOf(lock)) {
      startTicks = 0;
    }
  }
  return processAlive(pid, startTicks);
}

/**
 * The LOCK to start an acquisition from: a plain guess if it says free (a
 * CAS from it follows), else read again with an atomic, so that every
 * decision about a held lock rests on an atomic read (see "Plain loads" above).
 */
// @ts-ignore: decorator
@inline function lockToAcquire(a: u32): u64 {
  const guess = load<u64>(a + LOCK);
  return wordOf(guess) == 0 ? guess : atomic.load<u64>(a + LOCK);
}

/** One CAS attempt to take a free lock: the status if taken, else -1. */
// @ts-ignore: decorator
@inline function tryAcquire(a: u32, word: u32): i32 {
  const lock = lockToAcquire(a);
  if (wordOf(lock) != 0) return -1;
  // SYNC: acquire; pairs with the release CAS in mutexUnlock.
  if (atomic.cmpxchg<u64>(a + LOCK, lock, acquired(lock, word)) != lock) return -1;
  return recordHolder(a, generationOf(lock) + 1, false);
}

/** Takes the lock if it is free: OK, OWNER_DIED (taken, must repair), -WOULD_BLOCK or -NOT_RECOVERABLE. */
export function mutexTryLock(offset: u32): i32 {
  const a = at(offset);
  const status = tryAcquire(a, selfPid);
  if (status >= 0) return status;
  return atomic.load<u32>(a + WORD) == WORD_NOT_RECOVERABLE ? -NOT_RECOVERABLE : -WOULD_BLOCK;
}

/**
 * One step of an acquisition (the step contract of base/waiting.ts): acquires
 * (OK / OWNER_DIED), fails (-NOT_RECOVERABLE), or returns -MUST_WAIT with the
 * word and value to wait on. With STEP_PARK it registers first by setting
 * the sticky WAITERS bit, so that the release wakes it; without, it only
 * names the word to spin on (a spinning waiter costs the holder no syscall).
 * With STEP_CHECK_PEER, a holder whose process is gone is taken over.
 */
export function mutexLockStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  const park = (flags & STEP_PARK) != 0;
  let lock = lockToAcquire(a);
  // Bounded: every failed CAS below means another process changed the LOCK;
  // past the bound, report MUST_WAIT and let the caller's deadline decide.
  for (let attempt = 0; attempt < STEP_ATTEMPTS; attempt++) {
    const w = wordOf(lock);
    if (w == WORD_NOT_RECOVERABLE) return -NOT_RECOVERABLE;
    if (w == 0) {
      // A waiter that parked may share the lock with others still asleep:
      // it acquires with WAITERS, so that its release wakes the next.
      const old = atomic.cmpxchg<u64>(a + LOCK, lock, acquired(lock, park ? selfPid | WAITERS : selfPid));
      if (old == lock) return recordHolder(a, generationOf(lock) + 1, false);
      lock = old;
      continue;
    }
    if ((flags & STEP_CHECK_PEER) != 0 && !holderAlive(a, lock)) {
      // CAS from the LOCK observed before the liveness check: if anything
      // happened since (a release, another takeover, a new holder with the
      // same pid), the generation differs and this fails.
      const old = atomic.cmpxchg<u64>(a + LOCK, lock, acquired(lock, selfPid | WAITERS));
      if (old == lock) return recordHolder(a, generationOf(lock) + 1, true);
      lock = old;
      continue;
    }
    if (park && (w & WAITERS) == 0) {
      const marked = (lock & 0xFFFFFFFF00000000) | <u64>(w | WAITERS);
      const old = atomic.cmpxchg<u64>(a + LOCK, lock, marked);
      if (old != lock) { lock = old; continue; }
      requestWait(a + WORD, <i32>(w | WAITERS));
      return -MUST_WAIT;
    }
    requestWait(a + WORD, <i32>w);
    return -MUST_WAIT;
  }
  requestWait(a + WORD, <i32>wordOf(lock));
  return -MUST_WAIT;
}

/** Nothing to withdraw: a mutex waiter registers only with the sticky WAITERS bit. */
export function mutexLockCancel(offset: u32, unused: u32): void {}

/**
 * Acquires the lock, waiting at most `timeoutMs` (negative: no limit) under
 * the wait policy `spins` (base/waiting.ts). Returns OK, OWNER_DIED (acquired;
 * repair, then mutexConsistent), -TIMED_OUT or -NOT_RECOVERABLE.
 */
export function mutexLock(offset: u32, timeoutMs: f64, spins: i32): i32 {
  const status = tryAcquire(at(offset), selfPid);
  if (status >= 0) return status;
  return block(mutexLockStep, mutexLockCancel, offset, 0, 0, timeoutMs, spins);
}

/**
 * Sets the word to `word` by CAS, keeping the generation; returns the word
 * replaced, or WORD_NOT_RECOVERABLE if the word kept changing under
 * REPLACE_ATTEMPTS rounds (only a peer flipping it can do that: the caller
 * then reports NOT_OWNER rather than loop without bound).
 */
function replaceWord(a: u32, word: u32): u32 {
  // Plain: only the CAS's expected value (see "Plain loads" above).
  let lock = load<u64>(a + LOCK);
  for (let attempt = 0; attempt < REPLACE_ATTEMPTS; attempt++) {
    const replaced = (lock & 0xFFFFFFFF00000000) | <u64>word;
    const old = atomic.cmpxchg<u64>(a + LOCK, lock, replaced);
    if (old == lock) return wordOf(lock);
    // Only WAITERS can be set by others while we hold the lock: at most a
    // few rounds; anything else means we no longer hold it.
    if ((wordOf(old) & PID_MASK) != selfPid) return wordOf(old);
    lock = old;
  }
  return WORD_NOT_RECOVERABLE;
}

/** Releases the lock: OK, or -NOT_OWNER if this process does not hold it. */
export function mutexUnlock(offset: u32): i32 {
  const a = at(offset);
  if (!mutexHeldBySelf(offset)) return -NOT_OWNER;
  atomic.store<u32>(a + HOLDER_RECORD_PID, 0);
  if (load<u32>(a + CONSISTENCY) == INCONSISTENT) {
    // Released without repair: nobody may trust what it protects any more.
    store<u32>(a + CONSISTENCY, UNRECOVERABLE);
    const old = replaceWord(a, WORD_NOT_RECOVERABLE);
    if ((old & PID_MASK) != selfPid) return -NOT_OWNER;
    hostWake(a + WORD, i32.MAX_VALUE);
    return OK;
  }
  // SYNC: release; everything written while holding becomes visible to the
  // next holder's acquiring compare-and-swap.
  const old = replaceWord(a, 0);
  if ((old & PID_MASK) != selfPid) return -NOT_OWNER;
  if ((old & WAITERS) != 0) hostWake(a + WORD, 1);
  return OK;
}

/** Marks the state protected by a lock taken with OWNER_DIED as repaired: OK, -NOT_OWNER, -NOT_RECOVERABLE. */
export function mutexConsistent(offset: u32): i32 {
  const a = at(offset);
  const w = atomic.load<u32>(a + WORD);
  if (w == WORD_NOT_RECOVERABLE) return -NOT_RECOVERABLE;
  if ((w & PID_MASK) != selfPid) return -NOT_OWNER;
  store<u32>(a + CONSISTENCY, CONSISTENT);
  return OK;
}

/** The pid of the holder, 0 if free, -1 if not recoverable (for inspection). */
export function mutexHolder(offset: u32): i32 {
  const w = atomic.load<u32>(at(offset) + WORD);
  if (w == WORD_NOT_RECOVERABLE) return -1;
  return <i32>(w & PID_MASK);
}

/**
 * True if this process holds the lock: the check every call of a protocol
 * makes that it still holds what it locked. Plain (see "Plain loads" above).
 */
export function mutexHeldBySelf(offset: u32): bool {
  let w = load<u32>(at(offset) + WORD);
  if (w == WORD_NOT_RECOVERABLE || (w & PID_MASK) != selfPid) w = atomic.load<u32>(at(offset) + WORD);
  return w != WORD_NOT_RECOVERABLE && (w & PID_MASK) == selfPid;
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
