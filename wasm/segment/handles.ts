// Handles: the one checked way from a host call to an object's memory.
//
// The directory lives in shared memory, so any peer can rewrite an entry at
// any time. The core therefore never trusts an entry it reads during an
// operation. A host opens an object once with objectOpen(index, kind): the
// entry is validated (state, kind, alignment, bounds against the segment and
// the end of the header, arithmetic in 64 bits so nothing wraps, no overlap
// with any other published entry, the object's own structural check) and
// its extent is copied into this instance's PRIVATE table (page 0, which no
// peer can reach). Every object export then takes that handle, and
// enterObject() re-derives the object's offset from the private table and
// re-checks its kind at the call.
//
// While an export runs, context.objectStart/objectEnd hold the extent of the
// object it addresses; every geometry-derived access in the protocols is
// checked against it (context.inObject), so a corrupted capacity, slot
// count or reader count can never reach past the object it belongs to.
//
//  private handle table (page 0), one 16-byte row per directory index:
//  0 ┌ kind u32 (0: not open) │ offset u32 │ size u32 │ reserved u32 ┐
//    └────────────────────────────────────────────────────────────────┘

import {
  CACHE_LINE, DIR_CAPACITY, DIR_ENTRY_SIZE, ENTRY_KIND, ENTRY_NAME_LENGTH, ENTRY_OFFSET,
  ENTRY_READY, ENTRY_SIZE, ENTRY_STATE, HEADER_DIRECTORY, HEADER_SIZE, KIND_MAX, NAME_MAX,
  SEGMENT_BASE,
} from "./layout";
import { segmentEnd, setObjectExtent } from "../base/context";
import { objectValidate } from "./objects";
import { CORRUPT, INVALID_ARGUMENT, KIND_MISMATCH, NOT_FOUND } from "../base/status";

// @ts-ignore: decorator
@inline const ROW: u32 = 16;
// @ts-ignore: decorator
@inline const ROW_KIND: u32 = 0;
// @ts-ignore: decorator
@inline const ROW_OFFSET: u32 = 4;
// @ts-ignore: decorator
@inline const ROW_SIZE: u32 = 8;

/** The private table of opened objects (page 0; never shared). */
export const handleTable: usize = memory.data(DIR_CAPACITY * ROW);

// @ts-ignore: decorator
@inline function entryAt(index: u32): u32 {
  return SEGMENT_BASE + HEADER_DIRECTORY + index * DIR_ENTRY_SIZE;
}

/**
 * True if a published entry describes an extent the core may address: a
 * known kind, a sane name length, CACHE_LINE aligned, after the header and
 * inside the segment (computed in 64 bits).
 */
export function entryExtentValid(kind: u32, offset: u32, size: u32, nameLength: u32): bool {
  if (kind == 0 || kind > KIND_MAX) return false;
  if (nameLength == 0 || nameLength > NAME_MAX) return false;
  if (offset < HEADER_SIZE || (offset & (CACHE_LINE - 1)) != 0 || size == 0) return false;
  return <u64>SEGMENT_BASE + <u64>offset + <u64>size <= <u64>segmentEnd;
}

/** True if [offset, offset + size) overlaps no published entry other than `index` (64-bit arithmetic). */
export function entryOverlapsNone(index: u32, offset: u32, size: u32): bool {
  const end = <u64>offset + <u64>size;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    if (i == index) continue;
    const e = entryAt(i);
    if (atomic.load<u32>(e + ENTRY_STATE) != ENTRY_READY) continue;
    const otherOffset = <u64>load<u32>(e + ENTRY_OFFSET);
    const otherEnd = otherOffset + <u64>load<u32>(e + ENTRY_SIZE);
    if (<u64>offset < otherEnd && otherOffset < end) return false;
  }
  return true;
}

/**
 * Validates directory entry `index` as an object of `kind` and records its
 * extent in this instance's private table. Returns the handle (the index),
 * or -NOT_FOUND (the entry is free), -KIND_MISMATCH, -INVALID_ARGUMENT or
 * -CORRUPT (the entry or the object fails a check).
 */
export function objectOpen(index: u32, kind: u32): i32 {
  if (index >= DIR_CAPACITY || kind == 0 || kind > KIND_MAX) return -INVALID_ARGUMENT;
  const e = entryAt(index);
  // SYNC: acquire; pairs with the release that publishes the entry (segment/directory.ts).
  if (atomic.load<u32>(e + ENTRY_STATE) != ENTRY_READY) return -NOT_FOUND;
  // Read each field once: a peer may be rewriting them, and only the values
  // checked here are ever used.
  const storedKind = load<u32>(e + ENTRY_KIND);
  const offset = load<u32>(e + ENTRY_OFFSET);
  const size = load<u32>(e + ENTRY_SIZE);
  const nameLength = load<u32>(e + ENTRY_NAME_LENGTH);
  if (!entryExtentValid(storedKind, offset, size, nameLength)) return -CORRUPT;
  if (storedKind != kind) return -KIND_MISMATCH;
  if (!entryOverlapsNone(index, offset, size)) return -CORRUPT;
  setObjectExtent(offset, size);
  const valid = objectValidate(kind, offset, size);
  setObjectExtent(0, 0);
  if (!valid) return -CORRUPT;
  const row = handleTable + index * ROW;
  store<u32>(row + ROW_OFFSET, offset);
  store<u32>(row + ROW_SIZE, size);
  store<u32>(row + ROW_KIND, kind);
  return <i32>index;
}

/**
 * The segment offset of the object behind `handle` if it was opened as
 * `kind`, with its extent made the current one (context.inObject); 0 if the
 * handle is not an open object of that kind (no object starts at 0: the
 * header is there).
 */
// @ts-ignore: decorator
@inline export function enterObject(handle: u32, kind: u32): u32 {
  if (handle >= DIR_CAPACITY) return 0;
  const row = handleTable + handle * ROW;
  if (load<u32>(row + ROW_KIND) != kind) return 0;
  const offset = load<u32>(row + ROW_OFFSET);
  setObjectExtent(offset, load<u32>(row + ROW_SIZE));
  return offset;
}

/** The segment offset of an open object (0 if `handle` is not open). */
export function handleOffset(handle: u32): u32 {
  if (handle >= DIR_CAPACITY) return 0;
  const row = handleTable + handle * ROW;
  return load<u32>(row + ROW_KIND) == 0 ? 0 : load<u32>(row + ROW_OFFSET);
}

/** The size in bytes of an open object (0 if `handle` is not open). */
export function handleSize(handle: u32): u32 {
  if (handle >= DIR_CAPACITY) return 0;
  const row = handleTable + handle * ROW;
  return load<u32>(row + ROW_KIND) == 0 ? 0 : load<u32>(row + ROW_SIZE);
}

/** Forgets every open object (the segment was detached). */
export function handlesReset(): void {
  memory.fill(handleTable, 0, DIR_CAPACITY * ROW);
}
