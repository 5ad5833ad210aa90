// Blackboard: the latest value of each of a fixed set of named keys, written
// by any process (one write batch at a time) and read by any number of
// processes without locks. This file owns the layout and the geometry
// checks; blackboard/protocol.ts the read and write protocols.
//
//  object offset
//  0    ┌ config, written once by blackboardInit ─────────────────────────┐
//       │ keys u32 │ maxValue u32 │ keyStride u32 │ bufferStride u32     │
//  64   ├ write claim: a robust mutex (mutex/mutex.ts, 64 bytes) ─────────┤
//  128  ├ generation u64: the last committed write batch ─────────────────┤
//       │   (its low half is the "any key changed" futex word)           │
//  192  ├ keys × keyStride ────────────────────────────────────────────────┤
//       │ key header (64 bytes)                                          │
//       │  0 change u32: +1 after every committed write of this key      │
//       │    (this key's futex word)                                     │
//       │  4 nameLength u32 │ 8 name: KEY_NAME_MAX bytes of UTF-8        │
//       │ 64 buffer 0 ┬ 0 stamp u64: the batch that wrote it (or VOID)   │
//       │             │ 8 version u32 │ 12 length u32                    │
//       │             └ 16 value: maxValue bytes (padded to 64)          │
//       │ 64 + bufferStride: buffer 1, the same                          │
//       └─────────────────────────────────────────────────────────────────┘
//
// keyStride = 64 + 2 * bufferStride; bufferStride = roundUp(16 + maxValue).
// The geometry is read once per call and checked against the object's
// extent (context.inObject): a peer may rewrite it at any time.
//
// The protocol (blackboard/read.ts, blackboard/write.ts):
//
// Who writes what: the config and names only blackboardInit; the generation,
// stamps, versions, lengths, values and change words only the holder of the
// write claim. Readers write nothing shared at all, so they never block or
// slow the writer (and a dead reader leaves nothing behind).
//
// Several writers: any process may write; write batches are serialised by
// the write claim (a robust mutex: CAS with the writer's pid; a waiter that
// finds the holder dead takes it over by CAS from the word observed, with
// OWNER_DIED). A batch writes one or several keys and commits them at once.
//
// States of a buffer, for the committed generation g:
//   COMMITTED  stamp <= g       a value readers may take; the CURRENT buffer
//                               of a key is its committed one with the
//                               larger stamp (at least one is committed)
//   STAGED     stamp == g + 1   being written by the claim holder's batch
//   VOID       stamp == VOID    nothing (or a dead or aborted batch's leftovers)
//
// Write batch (claim holder, batch b = g + 1):
//   claim -> roll back: every stamp > g becomes VOID (leftovers of a writer
//   that died or gave up before committing can never be committed by this
//   batch) -> per key: the non-current buffer gets stamp b, fence, then its
//   version (current + 1), length and value -> commit: release store of
//   generation = b (every buffer stamped b becomes committed at once) ->
//   per written key: change += 1, wake it -> wake the generation word ->
//   release the claim.
//
// Versioned read of keys K at generation g (a seqlock per buffer): acquire
// load g; per key the current buffer at g: its stamp s, length, version;
// copy the value; fence; re-load the stamp: still s means no writer touched
// the buffer during the copy (a writer restamps a buffer BEFORE it writes a
// byte into it), so the copy is whole and is that key's value at g. A moved
// stamp means retry from a fresh g (bounded; the caller's deadline decides).
// All keys read at one g form a consistent snapshot: a batch that wrote two
// keys committed both at one generation.
//
// Writer killed mid-update: its staged buffers have stamp g + 1 > g, so no
// reader ever takes them; the next writer's claim voids them. Killed after
// the commit store: the batch is committed; only some change words may miss
// their increment (waiters find out at their next liveness slice).
//
// Waiting for a change: a waiter reads the change word w (or the generation's
// low half for "any key") FIRST, then the key's committed version; if it is
// still the one it knows, it futex-waits on the word while it holds w. The
// writer commits first, then bumps the word, then wakes it: either the
// waiter's version check sees the commit, or the word differs from w. The
// writer wakes after every commit (no sleeper count), which is what lets a
// wait set sleep on blackboardChangeWord without registering here.

import { at, CACHE_LINE } from "../segment/layout";
import { inObject } from "../base/context";

export const BLACKBOARD_MAX_KEYS: u32 = 256;
export const BLACKBOARD_KEY_NAME_MAX: u32 = 48;
export const BLACKBOARD_MAX_VALUE: u32 = 1 << 24;
/** The stamp of a buffer that holds no value: larger than any generation, so never committed. */
export const STAMP_VOID: u64 = 0xFFFFFFFFFFFFFFFF;

// @ts-ignore: decorator
@inline export const KEYS: u32 = 0;
// @ts-ignore: decorator
@inline export const MAX_VALUE: u32 = 4;
// @ts-ignore: decorator
@inline export const KEY_STRIDE: u32 = 8;
// @ts-ignore: decorator
@inline export const BUFFER_STRIDE: u32 = 12;
// @ts-ignore: decorator
@inline export const CLAIM: u32 = 64;
// @ts-ignore: decorator
@inline export const GENERATION: u32 = 128;
export const BLACKBOARD_KEYS_START: u32 = 192;

// Key header fields.
// @ts-ignore: decorator
@inline export const CHANGE: u32 = 0;
// @ts-ignore: decorator
@inline export const NAME_LENGTH: u32 = 4;
// @ts-ignore: decorator
@inline export const NAME: u32 = 8;
// @ts-ignore: decorator
@inline export const KEY_HEADER: u32 = 64;

// Buffer fields.
// @ts-ignore: decorator
@inline export const STAMP: u32 = 0;
// @ts-ignore: decorator
@inline export const VERSION: u32 = 8;
// @ts-ignore: decorator
@inline export const LENGTH: u32 = 12;
export const BLACKBOARD_BUFFER_HEADER: u32 = 16;

/**
 * Private scratch (page 0): the host writes the key names here before it
 * creates a blackboard (each name as a length byte and its UTF-8 bytes, one
 * after the other), and blackboardKeyName copies one name out here.
 */
export const BLACKBOARD_KEY_SCRATCH_SIZE: u32 = BLACKBOARD_MAX_KEYS * (1 + BLACKBOARD_KEY_NAME_MAX);
export const blackboardKeyScratch: usize = memory.data(BLACKBOARD_KEY_SCRATCH_SIZE);
/** Private results (page 0) of the last blackboardLocate: buffer u32, length u32, version u32, pad, stamp u64. */
export const blackboardScratch: usize = memory.data(24);

export { fullFence } from "../base/context";

// @ts-ignore: decorator
@inline function roundUp64(n: u64): u64 {
  return (n + <u64>CACHE_LINE - 1) & ~(<u64>CACHE_LINE - 1);
}

export function bufferStrideFor(maxValue: u32): u32 {
  return <u32>roundUp64(<u64>BLACKBOARD_BUFFER_HEADER + <u64>maxValue);
}

export function keyStrideFor(maxValue: u32): u32 {
  return KEY_HEADER + 2 * bufferStrideFor(maxValue);
}

/**
 * True if the key-name scratch holds `keys` names in `scratchLength` bytes,
 * each 1 to KEY_NAME_MAX bytes long, no two alike.
 */
function keyNamesValid(keys: u32, scratchLength: u32): bool {
  if (scratchLength > BLACKBOARD_KEY_SCRATCH_SIZE) return false;
  let p: u32 = 0;
  for (let k: u32 = 0; k < keys; k++) {
    if (p >= scratchLength) return false;
    const length = <u32>load<u8>(blackboardKeyScratch + p);
    if (length == 0 || length > BLACKBOARD_KEY_NAME_MAX || p + 1 + length > scratchLength) return false;
    // Quadratic, but over at most 256 short names, once at creation.
    let q: u32 = 0;
    for (let j: u32 = 0; j < k; j++) {
      const other = <u32>load<u8>(blackboardKeyScratch + q);
      if (other == length && memory.compare(blackboardKeyScratch + q + 1, blackboardKeyScratch + p + 1, length) == 0) {
        return false;
      }
      q += 1 + other;
    }
    p += 1 + length;
  }
  return p == scratchLength;
}

/** Bytes a blackboard needs (0 if the parameters or the key names in the scratch are invalid). */
export function blackboardSize(keys: u32, maxValue: u32, scratchLength: u32): u32 {
  if (keys == 0 || keys > BLACKBOARD_MAX_KEYS) return 0;
  if (maxValue == 0 || maxValue > BLACKBOARD_MAX_VALUE) return 0;
  if (!keyNamesValid(keys, scratchLength)) return 0;
  return geometrySize(keys, maxValue);
}

function geometrySize(keys: u32, maxValue: u32): u32 {
  const size = <u64>BLACKBOARD_KEYS_START + <u64>keys * <u64>keyStrideFor(maxValue);
  return size > (1 << 30) ? 0 : <u32>size;
}

/** Initialises a zero-filled blackboard: every key empty (version 0, length 0) in buffer 0 at generation 0. */
export function blackboardInit(offset: u32, keys: u32, maxValue: u32): void {
  const a = at(offset);
  const bufferStride = bufferStrideFor(maxValue);
  const keyStride = keyStrideFor(maxValue);
  store<u32>(a + KEYS, keys);
  store<u32>(a + MAX_VALUE, maxValue);
  store<u32>(a + KEY_STRIDE, keyStride);
  store<u32>(a + BUFFER_STRIDE, bufferStride);
  let p: u32 = 0;
  for (let k: u32 = 0; k < keys; k++) {
    const key = a + BLACKBOARD_KEYS_START + k * keyStride;
    const length = <u32>load<u8>(blackboardKeyScratch + p);
    store<u32>(key + NAME_LENGTH, length);
    memory.copy(key + NAME, blackboardKeyScratch + p + 1, length);
    p += 1 + length;
    // Buffer 0 holds the empty value, committed at generation 0 (stamp 0).
    store<u64>(key + KEY_HEADER + bufferStride + STAMP, STAMP_VOID);
  }
}

// The geometry of the blackboard the running export addresses, read once
// from shared memory by loadGeometry and checked there; the protocols derive
// every address from these private copies (wasm globals, never shared), so a
// peer rewriting the config mid-call cannot move an access.
export let geoKeys: u32 = 0;
export let geoMaxValue: u32 = 0;
export let geoKeyStride: u32 = 0;
export let geoBufferStride: u32 = 0;

/**
 * Reads and checks the stored geometry: one a blackboard can have, lying
 * inside the object being addressed (context.inObject). Returns the key
 * count (and sets the geo* copies), or 0 if it is not such a geometry.
 */
export function loadGeometry(offset: u32): u32 {
  const a = at(offset);
  const keys = load<u32>(a + KEYS);
  const maxValue = load<u32>(a + MAX_VALUE);
  const keyStride = load<u32>(a + KEY_STRIDE);
  const bufferStride = load<u32>(a + BUFFER_STRIDE);
  if (keys == 0 || keys > BLACKBOARD_MAX_KEYS || maxValue == 0 || maxValue > BLACKBOARD_MAX_VALUE) return 0;
  if (keyStride != keyStrideFor(maxValue) || bufferStride != bufferStrideFor(maxValue)) return 0;
  const size = geometrySize(keys, maxValue);
  if (size == 0 || !inObject(offset, size)) return 0;
  geoKeys = keys;
  geoMaxValue = maxValue;
  geoKeyStride = keyStride;
  geoBufferStride = bufferStride;
  return keys;
}

/** A structural check of a blackboard found in a segment being opened (the extent is the current one). */
export function blackboardValidate(offset: u32, size: u32): bool {
  const keys = loadGeometry(offset);
  if (keys == 0) return false;
  const a = at(offset);
  for (let k: u32 = 0; k < keys; k++) {
    const length = load<u32>(keyAt(a, k) + NAME_LENGTH);
    if (length == 0 || length > BLACKBOARD_KEY_NAME_MAX) return false;
  }
  return true;
}

/** The wasm address of key `key`'s header (after loadGeometry; the caller has checked key < geoKeys). */
// @ts-ignore: decorator
@inline export function keyAt(a: u32, key: u32): u32 {
  return a + BLACKBOARD_KEYS_START + key * geoKeyStride;
}

/** The wasm address of buffer `which` (0 or 1) of the key whose header is at `key`. */
// @ts-ignore: decorator
@inline export function bufferAt(key: u32, which: u32): u32 {
  return key + KEY_HEADER + which * geoBufferStride;
}

export { at };
