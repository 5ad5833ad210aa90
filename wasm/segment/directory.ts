// The directory of named objects and the allocator behind it.
//
// Entries and the allocation top are written only while holding the directory
// lock (the robust mutex at HEADER_DIR_LOCK). An entry is published by the
// release store of ENTRY_READY into its state, after its kind, offset, size,
// name and the object itself are written; readers look entries up without the
// lock, with an acquiring load of the state. Entries are never removed, so an
// index, once found, stays valid for the life of the segment.
//
// A creator that dies inside the lock leaves at worst an advanced allocation
// top or a half-written FREE entry; the next holder gets OWNER_DIED, recomputes
// the top from the published entries and marks the lock consistent.

import {
  CACHE_LINE, DIR_CAPACITY, DIR_ENTRY_SIZE, ENTRY_FREE, ENTRY_KIND, ENTRY_NAME,
  ENTRY_NAME_LENGTH, ENTRY_OFFSET, ENTRY_READY, ENTRY_SIZE, ENTRY_STATE, HEADER_ALLOC_TOP,
  HEADER_DIR_LOCK, HEADER_DIRECTORY, HEADER_OBJECT_COUNT, HEADER_SIZE, KIND_MAX, NAME_MAX,
  SEGMENT_BASE,
} from "./layout";
import { inSegment, segmentEnd, spinLimit } from "../base/context";
import { entryExtentValid } from "./handles";
import { mutexConsistent, mutexHasWaiters, mutexHolder, mutexLock, mutexUnlock } from "../mutex/mutex";
import { objectInit, objectSize } from "./objects";
import { objectOpen } from "./handles";
import {
  CORRUPT, EXISTS, FULL, INVALID_ARGUMENT, KIND_MISMATCH, NOT_FOUND, OK, OWNER_DIED, TIMED_OUT,
  TOO_LARGE,
} from "../base/status";

/**
 * Private scratch (page 0) where the host writes a name before a lookup or
 * create. Each of directoryLookup and directoryCreate reads it once, at the
 * call, and neither writes it: a name written once serves a lookup and then
 * a create of the same name.
 */
export const nameScratch: usize = memory.data(NAME_MAX);

// @ts-ignore: decorator
@inline function entryAt(index: u32): u32 {
  return SEGMENT_BASE + HEADER_DIRECTORY + index * DIR_ENTRY_SIZE;
}

function nameMatches(e: u32, nameLength: u32): bool {
  if (load<u32>(e + ENTRY_NAME_LENGTH) != nameLength) return false;
  return memory.compare(e + ENTRY_NAME, nameScratch, nameLength) == 0;
}

/**
 * Finds the object named by the `nameLength` bytes in the name scratch.
 * Returns its entry index, or -NOT_FOUND, or -KIND_MISMATCH when the name
 * exists with another kind (kind 0 matches any kind).
 */
export function directoryLookup(kind: u32, nameLength: u32): i32 {
  if (nameLength == 0 || nameLength > NAME_MAX) return -INVALID_ARGUMENT;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    const e = entryAt(i);
    // SYNC: acquire; pairs with the release that publishes the entry.
    if (atomic.load<u32>(e + ENTRY_STATE) != ENTRY_READY) continue;
    if (!nameMatches(e, nameLength)) continue;
    if (kind != 0 && load<u32>(e + ENTRY_KIND) != kind) return -KIND_MISMATCH;
    return <i32>i;
  }
  return -NOT_FOUND;
}

/**
 * The end of the highest published entry, or 0 if any published entry is
 * not one the core may address (then nothing is allocated: the directory is
 * corrupt).
 */
function publishedEnd(): u32 {
  let end: u32 = HEADER_SIZE;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    const e = entryAt(i);
    if (atomic.load<u32>(e + ENTRY_STATE) != ENTRY_READY) continue;
    const offset = load<u32>(e + ENTRY_OFFSET);
    const size = load<u32>(e + ENTRY_SIZE);
    if (!entryExtentValid(load<u32>(e + ENTRY_KIND), offset, size, load<u32>(e + ENTRY_NAME_LENGTH))) return 0;
    if (offset + size > end) end = offset + size;
  }
  return end;
}

function repairAfterDeadCreator(): void {
  let count: u32 = 0;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    if (atomic.load<u32>(entryAt(i) + ENTRY_STATE) == ENTRY_READY) count++;
  }
  const end = publishedEnd();
  // Only ever raise the top (or replace an impossible one): lowering it to
  // the published end would reclaim what a dead creator allocated and did
  // not publish, and hand out again bytes that an entry may once have
  // covered. A corrupt directory keeps its top; createLocked refuses then.
  const top = load<u32>(SEGMENT_BASE + HEADER_ALLOC_TOP);
  if (end != 0 && (top < end || !inSegment(0, top))) store<u32>(SEGMENT_BASE + HEADER_ALLOC_TOP, end);
  store<u32>(SEGMENT_BASE + HEADER_OBJECT_COUNT, count);
  mutexConsistent(HEADER_DIR_LOCK);
}

function createLocked(kind: u32, nameLength: u32, p0: u32, p1: u32, p2: u32): i32 {
  const found = directoryLookup(0, nameLength);
  if (found >= 0) return -EXISTS;
  const size = objectSize(kind, p0, p1, p2);
  if (size == 0) return -INVALID_ARGUMENT;
  let free: i32 = -1;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    if (atomic.load<u32>(entryAt(i) + ENTRY_STATE) == ENTRY_FREE) { free = <i32>i; break; }
  }
  if (free < 0) return -FULL;
  // The allocation top is shared memory too: it must lie inside the segment
  // and above every published object, or the new object would land on the
  // header or on a live object.
  const top = load<u32>(SEGMENT_BASE + HEADER_ALLOC_TOP);
  const end = publishedEnd();
  if (end == 0 || top < end || !inSegment(0, top)) return -CORRUPT;
  const offset = (top + CACHE_LINE - 1) & ~(CACHE_LINE - 1);
  if (!inSegment(offset, size)) {
    return <u64>size + HEADER_SIZE > <u64>(segmentEnd - SEGMENT_BASE) ? -TOO_LARGE : -FULL;
  }
  memory.fill(SEGMENT_BASE + offset, 0, size);
  objectInit(kind, offset, size, p0, p1, p2);
  const e = entryAt(<u32>free);
  store<u32>(e + ENTRY_KIND, kind);
  store<u32>(e + ENTRY_OFFSET, offset);
  store<u32>(e + ENTRY_SIZE, size);
  store<u32>(e + ENTRY_NAME_LENGTH, nameLength);
  memory.copy(e + ENTRY_NAME, nameScratch, nameLength);
  store<u32>(SEGMENT_BASE + HEADER_ALLOC_TOP, offset + size);
  store<u32>(SEGMENT_BASE + HEADER_OBJECT_COUNT, load<u32>(SEGMENT_BASE + HEADER_OBJECT_COUNT) + 1);
  // SYNC: release; publishes the entry and the initialised object to lookups.
  atomic.store<u32>(e + ENTRY_STATE, ENTRY_READY);
  return free;
}

/**
 * Creates an object of `kind` named by the name scratch, with kind-specific
 * parameters, waiting at most `timeoutMs` (negative: no limit) for the
 * directory lock. Returns the new entry index, or -EXISTS, -FULL (no entry or
 * no space left), -TOO_LARGE (could never fit), -INVALID_ARGUMENT,
 * -TIMED_OUT, or -CORRUPT (the directory lock is not recoverable, or the
 * allocation top or an entry is impossible).
 */
export function directoryCreate(
  kind: u32, nameLength: u32, p0: u32, p1: u32, p2: u32, timeoutMs: f64,
): i32 {
  if (kind == 0 || kind > KIND_MAX) return -INVALID_ARGUMENT;
  if (nameLength == 0 || nameLength > NAME_MAX) return -INVALID_ARGUMENT;
  // The lock is held only while one entry is written: spin the usual few
  // loads, then park (in liveness slices, so a dead creator is taken over).
  const status = mutexLock(HEADER_DIR_LOCK, timeoutMs, spinLimit);
  if (status == OWNER_DIED) repairAfterDeadCreator();
  else if (status != OK) return status == -TIMED_OUT ? -TIMED_OUT : -CORRUPT;
  const result = createLocked(kind, nameLength, p0, p1, p2);
  mutexUnlock(HEADER_DIR_LOCK);
  return result;
}

/** The segment offset of the object in entry `index`. */
export function entryOffset(index: u32): u32 {
  return index < DIR_CAPACITY ? load<u32>(entryAt(index) + ENTRY_OFFSET) : 0;
}

/** The size in bytes of the object in entry `index`. */
export function entrySize(index: u32): u32 {
  return index < DIR_CAPACITY ? load<u32>(entryAt(index) + ENTRY_SIZE) : 0;
}

/** The kind of the object in entry `index`, 0 if the entry is free. */
export function entryKind(index: u32): u32 {
  if (index >= DIR_CAPACITY) return 0;
  const e = entryAt(index);
  return atomic.load<u32>(e + ENTRY_STATE) == ENTRY_READY ? load<u32>(e + ENTRY_KIND) : 0;
}

/**
 * Checks every published entry: known kind, aligned, inside the segment and
 * after the header, overlapping no other entry, a sane object.
 */
export function directoryValidate(): i32 {
  const top = load<u32>(SEGMENT_BASE + HEADER_ALLOC_TOP);
  if (top < HEADER_SIZE || !inSegment(0, top)) return CORRUPT;
  for (let i: u32 = 0; i < DIR_CAPACITY; i++) {
    const e = entryAt(i);
    const state = atomic.load<u32>(e + ENTRY_STATE);
    if (state == ENTRY_FREE) continue;
    if (state != ENTRY_READY) return CORRUPT;
    const kind = load<u32>(e + ENTRY_KIND);
    if (kind == 0 || kind > KIND_MAX) return CORRUPT;
    if (objectOpen(i, kind) < 0) return CORRUPT;
  }
  return OK;
}

/** The pid holding the directory lock, 0 if free, -1 if not recoverable (for inspection). */
export function directoryLockHolder(): i32 {
  return mutexHolder(HEADER_DIR_LOCK);
}

/** 1 if a process sleeps on the directory lock (for inspection). */
export function directoryLockHasWaiters(): i32 {
  return mutexHasWaiters(HEADER_DIR_LOCK);
}
