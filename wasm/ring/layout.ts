// SPSC byte ring: one producer process, one consumer process, records of any
// length up to capacity/2 - 8 bytes, written and read in place (zero-copy).
//
//  object offset
//  0    ┌ config, written once by ringInit ───────────────────────────────┐
//       │ capacity u32 (data bytes, a power of two) │ reserved             │
//  64   ├ producer line: only the producer writes ──────────────────────────┤
//       │ tail u32      position after the last committed record (futex)  │
//       │ claimEnd u32  position after the last claimed record            │
//       │ pid u32 │ recordPid u32 │ startTicks u64 │ headCache u32 │ pad   │
//       │ commits u64   records committed (diagnostics)                   │
//  128  ├ consumer line: only the consumer writes ──────────────────────────┤
//       │ head u32      position after the last released record (futex)  │
//       │ readEnd u32   position after the last record handed out         │
//       │ pid u32 │ recordPid u32 │ startTicks u64 │ tailCache u32 │ pad   │
//       │ reads u64     records handed out (diagnostics)                  │
//  192  ├ consumerSleepers u32: own line, written only by a parking consumer┤
//  256  ├ producerSleepers u32: own line, written only by a parking producer┤
//  320  ├ data: capacity bytes; records back to back, 8-byte aligned ───────┤
//       └───────────────────────────────────────────────────────────────────┘
//
//  record  0 ┌ length u32: payload bytes; bit 31 IN_PROGRESS while claimed ┐
//          4 │ type u32: 0..RING_TYPE_MAX, or PADDING                      │
//          8 │ payload, then 0..7 bytes up to the next multiple of 8       │
//            └─────────────────────────────────────────────────────────────┘
//
// Positions are u32 byte counters that wrap at 2^32; a record lives at
// position & (capacity - 1). capacity <= 2^30, so tail - head is exact.
// A record that does not fit before the end of the data is preceded by a
// PADDING record running to the end, and starts again at index 0.
//
// Publish order. Producer: write headers (IN_PROGRESS) and payloads up to
// claimEnd; on commit, clear IN_PROGRESS in each header, then store tail
// (release), then wake the consumer if it sleeps. Consumer: load tail
// (acquire), read records below it, then store head (release), then wake the
// producer if it sleeps. tail is the one publish point, so a batch costs one
// store, and a producer killed before it leaves no trace the consumer can
// see: the claim past tail is simply overwritten by the next producer. The
// consumer also checks that no record below tail is still IN_PROGRESS.
//
// Waiting: the consumer parks on tail, the producer on head; each counts
// itself in its sleepers word first, so that the other side makes the wake
// syscall only when someone sleeps (seq_cst store of tail/head, then load of
// the sleepers word, against add to sleepers, then load of tail/head).

import { SEGMENT_BASE, at } from "../segment/layout";
import { inObject } from "../base/context";
import { CORRUPT, EXISTS, INVALID_ARGUMENT, OK, OWNER_DIED } from "../base/status";
import {
  claimRole, holdsRole, releaseRole, ROLE_ALREADY_OURS, ROLE_BUSY, ROLE_TAKEN_OVER,
} from "../base/waiting";

export const RING_MIN_CAPACITY: u32 = 64;
export const RING_MAX_CAPACITY: u32 = 1 << 30;
export const RING_RECORD_HEADER: u32 = 8;
export const RING_TYPE_MAX: u32 = 0x7FFFFFFF;
/** Records one ringReadMany hands out at most. */
export const RING_BATCH_MAX: u32 = 512;
export const ROLE_PRODUCER: u32 = 0;
export const ROLE_CONSUMER: u32 = 1;

// @ts-ignore: decorator
@inline export const CAPACITY: u32 = 0;
// @ts-ignore: decorator
@inline export const TAIL: u32 = 64;
// @ts-ignore: decorator
@inline export const CLAIM_END: u32 = TAIL + 4;
// @ts-ignore: decorator
@inline export const PRODUCER_PID: u32 = CLAIM_END + 4;
// @ts-ignore: decorator
@inline export const PRODUCER_RECORD_PID: u32 = PRODUCER_PID + 4;
// @ts-ignore: decorator
@inline export const PRODUCER_START: u32 = PRODUCER_RECORD_PID + 4;
// @ts-ignore: decorator
@inline export const HEAD_CACHE: u32 = PRODUCER_START + 8;
// @ts-ignore: decorator
@inline export const COMMITS: u32 = HEAD_CACHE + 8;
// @ts-ignore: decorator
@inline export const HEAD: u32 = 128;
// @ts-ignore: decorator
@inline export const READ_END: u32 = HEAD + 4;
// @ts-ignore: decorator
@inline export const CONSUMER_PID: u32 = READ_END + 4;
// @ts-ignore: decorator
@inline export const CONSUMER_RECORD_PID: u32 = CONSUMER_PID + 4;
// @ts-ignore: decorator
@inline export const CONSUMER_START: u32 = CONSUMER_RECORD_PID + 4;
// @ts-ignore: decorator
@inline export const TAIL_CACHE: u32 = CONSUMER_START + 8;
// @ts-ignore: decorator
@inline export const READS: u32 = TAIL_CACHE + 8;
// @ts-ignore: decorator
@inline export const CONSUMER_SLEEPERS: u32 = 192;
// @ts-ignore: decorator
@inline export const PRODUCER_SLEEPERS: u32 = 256;
export const RING_DATA: u32 = 320;

// Record header fields and states.
// @ts-ignore: decorator
@inline export const LENGTH: u32 = 0;
// @ts-ignore: decorator
@inline export const TYPE: u32 = 4;
// @ts-ignore: decorator
@inline export const IN_PROGRESS: u32 = 0x80000000;
// @ts-ignore: decorator
@inline export const PADDING: u32 = 0xFFFFFFFF;

/**
 * Private results (page 0): a read leaves (payload offset, length, type) per
 * record, RING_BATCH_MAX triples of u32; ringClaimMany leaves (first payload
 * offset, stride).
 */
export const ringScratch: usize = memory.data(RING_BATCH_MAX * 12);


// @ts-ignore: decorator
@inline export function recordSize(length: u32): u32 {
  return (length + RING_RECORD_HEADER + 7) & ~7;
}

function validCapacity(capacity: u32): bool {
  return capacity >= RING_MIN_CAPACITY && capacity <= RING_MAX_CAPACITY &&
    (capacity & (capacity - 1)) == 0;
}

/** The capacity stored in the ring, or 0 if it is not one this object can have. */
export function capacityOf(offset: u32): u32 {
  const capacity = load<u32>(at(offset) + CAPACITY);
  if (!validCapacity(capacity) || !inObject(offset, RING_DATA + capacity)) return 0;
  return capacity;
}

/** Bytes a ring of `capacity` data bytes needs, or 0 if the capacity is invalid. */
export function ringSize(capacity: u32): u32 {
  return validCapacity(capacity) ? RING_DATA + capacity : 0;
}

export function ringInit(offset: u32, capacity: u32): void {
  store<u32>(at(offset) + CAPACITY, capacity);
}

/** A structural check of a ring found in a segment being opened. */
export function ringValidate(offset: u32, size: u32): bool {
  const capacity = load<u32>(at(offset) + CAPACITY);
  return validCapacity(capacity) && <u64>RING_DATA + capacity <= <u64>size;
}

/** The largest payload a record of this ring can carry. */
export function ringMaxPayload(offset: u32): i32 {
  const capacity = capacityOf(offset);
  return capacity == 0 ? -CORRUPT : <i32>(capacity / 2 - RING_RECORD_HEADER);
}

/**
 * Attaches this process as the producer or the consumer (ROLE_*). Returns OK,
 * OWNER_DIED (taken over from a dead process: a producer's torn claim is
 * dropped, a consumer's unreleased records are handed out again) or -EXISTS
 * (a live process holds the role).
 */
export function ringAttach(offset: u32, role: u32): i32 {
  const a = at(offset);
  if (capacityOf(offset) == 0) return -CORRUPT;
  const producer = role == ROLE_PRODUCER;
  if (!producer && role != ROLE_CONSUMER) return -INVALID_ARGUMENT;
  const taken = producer
    ? claimRole(a + PRODUCER_PID, a + PRODUCER_RECORD_PID, a + PRODUCER_START)
    : claimRole(a + CONSUMER_PID, a + CONSUMER_RECORD_PID, a + CONSUMER_START);
  if (taken == ROLE_BUSY) return -EXISTS;
  if (taken == ROLE_ALREADY_OURS) return OK;
  if (producer) {
    store<u32>(a + CLAIM_END, atomic.load<u32>(a + TAIL));
    store<u32>(a + HEAD_CACHE, atomic.load<u32>(a + HEAD));
    if (taken == ROLE_TAKEN_OVER) atomic.store<u32>(a + PRODUCER_SLEEPERS, 0);
  } else {
    const head = atomic.load<u32>(a + HEAD);
    store<u32>(a + READ_END, head);
    store<u32>(a + TAIL_CACHE, head);
    if (taken == ROLE_TAKEN_OVER) atomic.store<u32>(a + CONSUMER_SLEEPERS, 0);
  }
  return taken == ROLE_TAKEN_OVER ? OWNER_DIED : OK;
}

/** Gives the role up (a producer's uncommitted claims are dropped). */
export function ringDetach(offset: u32, role: u32): void {
  const a = at(offset);
  if (role == ROLE_PRODUCER) {
    if (holdsRole(a + PRODUCER_PID)) store<u32>(a + CLAIM_END, load<u32>(a + TAIL));
    releaseRole(a + PRODUCER_PID, a + PRODUCER_RECORD_PID);
  } else {
    releaseRole(a + CONSUMER_PID, a + CONSUMER_RECORD_PID);
  }
}


export { at };
