// The reader's side of the blackboard (the protocol is described with the
// layout in blackboard/layout.ts): the versioned read, versions, waiting for
// a change. Readers never write shared memory.
//
// A read is three calls, so that the host copies the value straight from the
// segment into its own buffer: blackboardGeneration -> blackboardLocate (per
// key) -> host copy -> blackboardVerify (per key). Every address handed out
// lies inside the object (the geometry is checked against its extent first).

import {
  at, BLACKBOARD_BUFFER_HEADER, BLACKBOARD_KEY_NAME_MAX, blackboardKeyScratch, blackboardScratch,
  bufferAt, CHANGE, fullFence, GENERATION, geoMaxValue, keyAt, LENGTH, loadGeometry, NAME,
  NAME_LENGTH, STAMP, VERSION,
} from "./layout";
import { requestWait } from "../base/context";
import { CORRUPT, INVALID_ARGUMENT, MUST_WAIT, OK } from "../base/status";
import { block } from "../base/waiting";

/** Key number meaning "any key" (the -1 of the ABI). */
export const BLACKBOARD_ANY_KEY: u32 = 0xFFFFFFFF;
/** How many fresh looks a version read makes while buffers move under it before it reports CORRUPT. */
export const BLACKBOARD_READ_ATTEMPTS: i32 = 64;
/** Generations are exact in an f64 up to 2^53: far beyond any real count of write batches. */
// @ts-ignore: decorator
@inline const GENERATION_LIMIT: u64 = 1 << 53;

/** The stamp of the buffer the last currentBuffer call chose. */
let chosenStamp: u64 = 0;

/**
 * Which buffer of the key at `key` is current at generation `g`: the
 * committed one (stamp <= g) with the larger stamp, or -1 if neither is
 * committed at g (a newer batch moved them: look again at a fresh g).
 */
export function currentBuffer(key: u32, g: u64): i32 {
  const s0 = atomic.load<u64>(bufferAt(key, 0) + STAMP);
  const s1 = atomic.load<u64>(bufferAt(key, 1) + STAMP);
  const committed0 = s0 <= g;
  const committed1 = s1 <= g;
  if (committed1 && (!committed0 || s1 > s0)) {
    chosenStamp = s1;
    return 1;
  }
  if (committed0) {
    chosenStamp = s0;
    return 0;
  }
  return -1;
}

/** The committed generation as an f64 (exact), or -CORRUPT if it is beyond 2^53 (no real count is). */
export function blackboardGeneration(offset: u32): f64 {
  // SYNC: acquire; pairs with the release store of the generation in
  // blackboardCommit: a reader that sees g sees whole every buffer stamped <= g.
  const g = atomic.load<u64>(at(offset) + GENERATION);
  return g > GENERATION_LIMIT ? -<f64>CORRUPT : <f64>g;
}

/**
 * Locates key `key`'s value at generation `generation` (from
 * blackboardGeneration): returns the wasm address of its bytes, with
 * (buffer u32, length u32, version u32, pad, stamp u64) in
 * blackboardScratch; -MUST_WAIT if no buffer is committed at that generation
 * any more (read the generation again), -INVALID_ARGUMENT (no such key, or a
 * generation that was not read from the object), -CORRUPT (the geometry or
 * a committed length is impossible).
 */
export function blackboardLocate(offset: u32, key: u32, generation: f64): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (key >= keys) return -INVALID_ARGUMENT;
  if (!(generation >= 0 && generation <= <f64>GENERATION_LIMIT)) return -INVALID_ARGUMENT;
  const g = <u64>generation;
  const k = keyAt(at(offset), key);
  const which = currentBuffer(k, g);
  if (which < 0) return -MUST_WAIT;
  const stamp = chosenStamp;
  const b = bufferAt(k, <u32>which);
  const length = load<u32>(b + LENGTH);
  const version = load<u32>(b + VERSION);
  if (length > geoMaxValue) {
    // A writer may be rewriting this buffer (then the stamp moved), or the
    // length is a committed impossibility.
    fullFence();
    return atomic.load<u64>(b + STAMP) != stamp ? -MUST_WAIT : -CORRUPT;
  }
  store<u32>(blackboardScratch, <u32>which);
  store<u32>(blackboardScratch + 4, length);
  store<u32>(blackboardScratch + 8, version);
  store<u64>(blackboardScratch + 16, stamp);
  return <i32>(b + BLACKBOARD_BUFFER_HEADER);
}

/**
 * After the host copied the value blackboardLocate pointed at: OK if buffer
 * `which` of `key` still has `stamp` (the copy is whole), -MUST_WAIT if a
 * writer restamped it (read again), -INVALID_ARGUMENT, -CORRUPT.
 */
export function blackboardVerify(offset: u32, key: u32, which: u32, stamp: f64): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (key >= keys || which > 1) return -INVALID_ARGUMENT;
  const b = bufferAt(keyAt(at(offset), key), which);
  // SYNC: fence; pairs with the fence a writer makes after restamping a
  // buffer and before writing its value: if the copy saw any byte of a new
  // value, the load below sees the new stamp.
  fullFence();
  return <f64>atomic.load<u64>(b + STAMP) == stamp ? OK : -MUST_WAIT;
}

/**
 * The committed version of the key at `k` (after loadGeometry), or
 * -MUST_WAIT if buffers kept moving under BLACKBOARD_READ_ATTEMPTS looks.
 */
function committedVersion(a: u32, k: u32): i64 {
  for (let attempt = 0; attempt < BLACKBOARD_READ_ATTEMPTS; attempt++) {
    // SYNC: acquire; as in blackboardGeneration.
    const g = atomic.load<u64>(a + GENERATION);
    const which = currentBuffer(k, g);
    if (which < 0) continue;
    const stamp = chosenStamp;
    const b = bufferAt(k, <u32>which);
    const version = load<u32>(b + VERSION);
    // SYNC: fence; as in blackboardVerify.
    fullFence();
    if (atomic.load<u64>(b + STAMP) == stamp) return <i64>version;
  }
  return -<i64>MUST_WAIT;
}

/**
 * The committed version of `key` (an unsigned 32-bit count of its writes
 * that wraps; 0: never written), or for BLACKBOARD_ANY_KEY the low half of
 * the generation; a negative status: -INVALID_ARGUMENT, -CORRUPT (the
 * geometry is impossible, or no buffer of the key stayed committed for
 * BLACKBOARD_READ_ATTEMPTS looks).
 */
export function blackboardVersion(offset: u32, key: u32): f64 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -<f64>CORRUPT;
  const a = at(offset);
  if (key == BLACKBOARD_ANY_KEY) return <f64>atomic.load<u32>(a + GENERATION);
  if (key >= keys) return -<f64>INVALID_ARGUMENT;
  const v = committedVersion(a, keyAt(a, key));
  return v < 0 ? -<f64>CORRUPT : <f64>v;
}

/**
 * The wasm address of the u32 futex word that changes on every committed
 * write of `key` (BLACKBOARD_ANY_KEY: of any key); writers wake it after
 * each commit. Negative status: -INVALID_ARGUMENT, -CORRUPT.
 */
export function blackboardChangeWord(offset: u32, key: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  const a = at(offset);
  if (key == BLACKBOARD_ANY_KEY) return <i32>(a + GENERATION);
  if (key >= keys) return -INVALID_ARGUMENT;
  return <i32>(keyAt(a, key) + CHANGE);
}

/**
 * One step of a wait until `key`'s committed version differs from
 * `version` (BLACKBOARD_ANY_KEY: until the generation's low half differs),
 * the step contract of base/waiting.ts: OK, or -MUST_WAIT with the change
 * word to wait on. Nothing is registered (writers always wake), so the
 * flags change nothing and there is nothing to cancel.
 */
export function blackboardWaitStep(offset: u32, key: u32, version: u32, flags: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  const a = at(offset);
  if (key == BLACKBOARD_ANY_KEY) {
    const w = atomic.load<u32>(a + GENERATION);
    if (w != version) return OK;
    requestWait(a + GENERATION, <i32>w);
    return -MUST_WAIT;
  }
  if (key >= keys) return -INVALID_ARGUMENT;
  const k = keyAt(a, key);
  // SYNC: the change word is read BEFORE the version (see layout.ts): a
  // commit the version check misses bumps the word after this load.
  const w = atomic.load<u32>(k + CHANGE);
  const current = committedVersion(a, k);
  // A key rewritten faster than it can be looked at has changed.
  if (current < 0 || <u32>current != version) return OK;
  requestWait(k + CHANGE, <i32>w);
  return -MUST_WAIT;
}

/** Nothing to withdraw: a blackboard waiter registers nowhere. */
export function blackboardWaitCancel(offset: u32, unused: u32): void {}

/**
 * Waits until `key`'s version differs from `version` (see
 * blackboardWaitStep), at most `timeoutMs` (negative: no limit), under the
 * policy `spins`: OK, -TIMED_OUT, -INVALID_ARGUMENT or -CORRUPT.
 */
export function blackboardWait(offset: u32, key: u32, version: u32, timeoutMs: f64, spins: i32): i32 {
  return block(blackboardWaitStep, blackboardWaitCancel, offset, key, version, timeoutMs, spins);
}

/** Copies `key`'s name into blackboardKeyScratch and returns its length; -INVALID_ARGUMENT, -CORRUPT. */
export function blackboardKeyName(offset: u32, key: u32): i32 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -CORRUPT;
  if (key >= keys) return -INVALID_ARGUMENT;
  const k = keyAt(at(offset), key);
  const length = load<u32>(k + NAME_LENGTH);
  if (length == 0 || length > BLACKBOARD_KEY_NAME_MAX) return -CORRUPT;
  memory.copy(blackboardKeyScratch, k + NAME, length);
  return <i32>length;
}

export const BLACKBOARD_INFO_KEYS: u32 = 0;
export const BLACKBOARD_INFO_MAX_VALUE: u32 = 1;
export const BLACKBOARD_INFO_GENERATION: u32 = 2;

/** A figure for inspection (BLACKBOARD_INFO_*), or -1 if the geometry is impossible or `which` unknown. */
export function blackboardInfo(offset: u32, which: u32): f64 {
  const keys = loadGeometry(offset);
  if (keys == 0) return -1;
  if (which == BLACKBOARD_INFO_KEYS) return <f64>keys;
  if (which == BLACKBOARD_INFO_MAX_VALUE) return <f64>geoMaxValue;
  if (which == BLACKBOARD_INFO_GENERATION) return <f64>atomic.load<u64>(at(offset) + GENERATION);
  return -1;
}
