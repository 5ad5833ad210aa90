// The writer's side of the blackboard (the protocol is described with the
// layout in blackboard/layout.ts): claim, stage each key, commit or abort.
//
// A write batch is: blackboardClaim (or its step) -> blackboardStage per key
// (the host writes the value at the address it returns) -> blackboardCommit
// (or blackboardAbort). Only the claim holder may stage, commit or abort.

import {
  at, BLACKBOARD_BUFFER_HEADER, blackboardScratch, bufferAt, CHANGE, CLAIM, GENERATION, geoMaxValue, keyAt,
  fullFence, LENGTH, loadGeometry, STAMP, STAMP_VOID, VERSION,
} from "./layout";
import { currentBuffer } from "./read";
import { hostWake } from "../base/host";
import { selfPid } from "../base/context";
import { CORRUPT, INVALID_ARGUMENT, NOT_OWNER, OK, OWNER_DIED, TOO_LARGE } from "../base/status";
import {
  mutexConsistent, mutexHolder, mutexLock, mutexLockCancel, mutexLockStep, mutexTryLock, mutexUnlock,
} from "../mutex/mutex";

/**
 * Voids every buffer stamped after generation `g`: what a writer that died
 * or gave up staged and never committed. Run by every new claim holder, so
 * that its own commit (of g + 1) can never commit someone else's leftovers.
 */
function rollBack(a: u32, keys: u32, g: u64): void {
  for (let key: u32 = 0; key < keys; key++) {
    const k = keyAt(a, key);
    for (let which: u32 = 0; which < 2; which++) {
      const b = bufferAt(k, which);
      const stamp = atomic.load<u64>(b + STAMP);
      if (stamp > g && stamp != STAMP_VOID) atomic.store<u64>(b + STAMP, STAMP_VOID);
    }
  }
}

/** What a claim that succeeded with `status` (OK or OWNER_DIED) does before the batch starts. */
function claimed(offset: u32, keys: u32, status: i32): i32 {
  const a = at(offset);
  rollBack(a, keys, atomic.load<u64>(a + GENERATION));
  // The rollback is the whole repair a dead writer needs.
  if (status == OWNER_DIED) mutexConsistent(offset + CLAIM);
  return status;
}

// @ts-ignore: decorator
@inline function holdsClaim(offset: u32): bool {
  return mutexHolder(offset + CLAIM) == <i32>selfPid;
}

/** Takes the write claim if it is free: OK, OWNER_DIED (a dead writer's, taken over), -WOULD_BLOCK, -CORRUPT. */
export function blackboardTryClaim(offset: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (holdsClaim(offset)) return -INVALID_ARGUMENT;
  const status = mutexTryLock(offset + CLAIM);
  return status < 0 ? status : claimed(offset, keys, status);
}

/**
 * One step of taking the write claim (the step contract of base/waiting.ts,
 * the mutex's: with STEP_CHECK_PEER a dead holder is taken over). OK,
 * OWNER_DIED, -MUST_WAIT, -INVALID_ARGUMENT (this process holds it already),
 * -NOT_RECOVERABLE or -CORRUPT.
 */
export function blackboardClaimStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (holdsClaim(offset)) return -INVALID_ARGUMENT;
  const status = mutexLockStep(offset + CLAIM, unused0, unused1, flags);
  return status < 0 ? status : claimed(offset, keys, status);
}

export function blackboardClaimCancel(offset: u32, unused: u32): void {
  mutexLockCancel(offset + CLAIM, unused);
}

/** Takes the write claim, waiting at most `timeoutMs` (negative: no limit) under `spins`. */
export function blackboardClaim(offset: u32, timeoutMs: f64, spins: i32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (holdsClaim(offset)) return -INVALID_ARGUMENT;
  const status = mutexLock(offset + CLAIM, timeoutMs, spins);
  return status < 0 ? status : claimed(offset, keys, status);
}

/**
 * Stages a new value of `length` bytes for `key` in this batch: returns the
 * wasm address where the host writes it, with the version it will have in
 * blackboardScratch + 8 (staging a key again in the same batch returns the
 * same buffer with the new length). -NOT_OWNER (no claim),
 * -INVALID_ARGUMENT (no such key), -TOO_LARGE (over maxValue), -CORRUPT.
 */
export function blackboardStage(offset: u32, key: u32, length: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (key >= keys) return -INVALID_ARGUMENT;
  if (length > geoMaxValue) return -TOO_LARGE;
  if (!holdsClaim(offset)) return -NOT_OWNER;
  const a = at(offset);
  const g = atomic.load<u64>(a + GENERATION);
  const batch = g + 1;
  const k = keyAt(a, key);
  // While we hold the claim nobody else restamps, so a key with no committed
  // buffer is damage, not a race.
  const current = currentBuffer(k, g);
  if (current < 0) return -CORRUPT;
  const b = bufferAt(k, 1 - <u32>current);
  if (atomic.load<u64>(b + STAMP) != batch) {
    atomic.store<u64>(b + STAMP, batch);
    // SYNC: fence; the new stamp is visible before any byte of the new value,
    // so a reader still copying the old value out of this buffer fails its
    // verify (pairs with the fence in blackboardVerify).
    fullFence();
    store<u32>(b + VERSION, load<u32>(bufferAt(k, <u32>current) + VERSION) + 1);
  }
  store<u32>(b + LENGTH, length);
  store<u32>(blackboardScratch + 8, load<u32>(b + VERSION));
  return <i32>(b + BLACKBOARD_BUFFER_HEADER);
}

/**
 * Commits every key staged in this batch at once, wakes their change words
 * and the generation word, and releases the claim. Returns how many keys it
 * committed (0: nothing was staged, nothing changes), -NOT_OWNER or -CORRUPT.
 */
export function blackboardCommit(offset: u32): i32 {
  if (!holdsClaim(offset)) return -NOT_OWNER;
  const keys = loadGeometry(offset);
  if (keys == 0) {
    mutexUnlock(offset + CLAIM);
    return -CORRUPT;
  }
  const a = at(offset);
  const batch = atomic.load<u64>(a + GENERATION) + 1;
  let staged: i32 = 0;
  for (let key: u32 = 0; key < keys; key++) {
    const k = keyAt(a, key);
    if (atomic.load<u64>(bufferAt(k, 0) + STAMP) == batch || atomic.load<u64>(bufferAt(k, 1) + STAMP) == batch) staged++;
  }
  if (staged > 0) {
    // SYNC: release; every buffer stamped `batch` (value, version and length
    // written before this store) becomes committed, all at once, to readers
    // that acquire the generation (blackboardGeneration).
    atomic.store<u64>(a + GENERATION, batch);
    for (let key: u32 = 0; key < keys; key++) {
      const k = keyAt(a, key);
      if (atomic.load<u64>(bufferAt(k, 0) + STAMP) != batch && atomic.load<u64>(bufferAt(k, 1) + STAMP) != batch) continue;
      // SYNC: after the commit; a waiter that read the old word checks the
      // version after its read, or finds the word moved (layout.ts).
      atomic.add<u32>(k + CHANGE, 1);
      hostWake(k + CHANGE, i32.MAX_VALUE);
    }
    hostWake(a + GENERATION, i32.MAX_VALUE);
  }
  mutexUnlock(offset + CLAIM);
  return staged;
}

/** Gives the batch up: its staged buffers are voided and the claim released. OK, -NOT_OWNER, -CORRUPT. */
export function blackboardAbort(offset: u32): i32 {
  if (!holdsClaim(offset)) return -NOT_OWNER;
  const keys = loadGeometry(offset);
  if (keys != 0) {
    const a = at(offset);
    rollBack(a, keys, atomic.load<u64>(a + GENERATION));
  }
  mutexUnlock(offset + CLAIM);
  return keys == 0 ? -CORRUPT : OK;
}

/** The pid holding the write claim, 0 if free, -1 if not recoverable (for inspection). */
export function blackboardWriter(offset: u32): i32 {
  return mutexHolder(offset + CLAIM);
}
