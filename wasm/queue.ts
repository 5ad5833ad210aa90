// Bounded MPMC queue: fixed-size slots with sequence numbers (after Dmitry
// Vyukov's bounded queue), any number of producer and consumer processes,
// every message delivered exactly once, written and read in place.
//
//  object offset
//  0    ┌ config, written once by queueInit ───────────────────────────────┐
//       │ slotSize u32 (payload bytes) │ slots u32 (a power of two)       │
//       │ stride u32 (bytes per slot)                                      │
//  64   ├ enqueuePos u32: next position to claim (producers, CAS) ─────────┤
//  128  ├ dequeuePos u32: next position to take (consumers, CAS) ──────────┤
//  192  ├ notEmpty: epoch u32 (futex), sleepers u32 (parked consumers) ────┤
//  256  ├ notFull:  epoch u32 (futex), sleepers u32 (parked producers) ────┤
//  320  ├ slots × stride ───────────────────────────────────────────────────┤
//       │  0 seq u32 │ 4 owner u32   one u64, changed only by CAS/store64  │
//       │  8 length u32 │ 12 type u32                                      │
//       │ 16 ownerStart u64 │ 24 ownerRecordPid u32 │ 28 reserved         │
//       │ 32 payload (slotSize bytes)                                      │
//       └───────────────────────────────────────────────────────────────────┘
//
// Slot states, for the lap that position `pos` (slot pos & (slots-1)) is in:
//   FREE     seq == pos,     owner 0      a producer may claim it
//   WRITING  seq == pos,     owner pid    claimed by producer `pid`
//   READY    seq == pos + 1, owner 0      committed; a consumer may take it
//   READING  seq == pos + 1, owner pid    taken by consumer `pid`
// Released, the slot is FREE for pos + slots. Claim and take are one CAS of
// (seq, owner), so the claimer's identity is recorded atomically with the
// claim; enqueuePos/dequeuePos are then advanced by the claimer, or by
// anyone who sees the slot claimed (helping), so a claimer that dies between
// the two CASes cannot stall the queue.
//
// The owner of a WRITING or READING slot records its start time after its
// CAS (ownerStart, then ownerRecordPid, which vouches for it), and clears the
// record before the store64 that gives the slot up; so a recoverer checks a
// slot's owner by pid and start time, and a reused pid is never taken for
// the owner (a record is only ever that of the slot's current owner).
//
// Every loop over positions is bounded: a slot whose sequence is no state
// the position can explain (while the position stays put) is CORRUPT at
// once, and a position that keeps moving under us ends the call as
// FULL / EMPTY after a bounded number of rounds (the caller's deadline
// decides whether to look again).
//
// Crash recovery, after a wait slice ran out: a consumer stuck on a slot
// WRITING by a dead process takes it over (CAS owner), marks it TOMBSTONE and
// publishes it; whoever takes a tombstone releases it and moves on. A
// producer stuck on a slot READING by a dead process releases it on its
// behalf (that message counts as delivered to the dead consumer).
//
// Publish order: producer writes length, type, payload, then store64
// (seq + 1, 0) (release); consumer CAS-acquires the slot, reads, then store64
// (pos + slots, 0) (release). Parking uses an epoch word per direction: a
// waiter adds itself to sleepers, reads the epoch, looks once more, then
// waits on the epoch; the other side, after its store64, bumps the epoch and
// wakes one sleeper only if sleepers is not zero.

import { SEGMENT_BASE } from "./layout";
import { hostWake } from "./host";
import { inObject, requestWait, selfPid, writeHolderRecord } from "./context";
import { CORRUPT, EMPTY, FULL, INVALID_ARGUMENT, NOT_OWNER, OK, TOO_LARGE } from "./status";

export const QUEUE_MAX_SLOTS: u32 = 1 << 20;
export const QUEUE_MAX_SLOT_SIZE: u32 = 1 << 28;
export const QUEUE_TYPE_MAX: u32 = 0x7FFFFFFF;

// @ts-ignore: decorator
@inline export const SLOT_SIZE: u32 = 0;
// @ts-ignore: decorator
@inline export const SLOTS: u32 = 4;
// @ts-ignore: decorator
@inline export const STRIDE: u32 = 8;
// @ts-ignore: decorator
@inline export const ENQUEUE_POS: u32 = 64;
// @ts-ignore: decorator
@inline export const DEQUEUE_POS: u32 = 128;
// @ts-ignore: decorator
@inline export const NOT_EMPTY_EPOCH: u32 = 192;
// @ts-ignore: decorator
@inline export const NOT_EMPTY_SLEEPERS: u32 = 196;
// @ts-ignore: decorator
@inline export const NOT_FULL_EPOCH: u32 = 256;
// @ts-ignore: decorator
@inline export const NOT_FULL_SLEEPERS: u32 = 260;
export const QUEUE_SLOTS_START: u32 = 320;

// Slot fields.
// @ts-ignore: decorator
@inline export const SEQ: u32 = 0;
// @ts-ignore: decorator
@inline export const LENGTH: u32 = 8;
// @ts-ignore: decorator
@inline export const TYPE: u32 = 12;
// @ts-ignore: decorator
@inline export const OWNER_START: u32 = 16;
// @ts-ignore: decorator
@inline export const OWNER_RECORD_PID: u32 = 24;
export const QUEUE_SLOT_HEADER: u32 = 32;
/** Rounds a claim or read makes while positions move under it, beyond one per slot. */
// @ts-ignore: decorator
@inline const EXTRA_ROUNDS: u32 = 64;
// @ts-ignore: decorator
@inline export const TOMBSTONE: u32 = 0xFFFFFFFF;

/** Private results (page 0): (payload offset, length, type) of the last take. */
export const queueScratch: usize = memory.data(16);

// @ts-ignore: decorator
@inline export function at(offset: u32): u32 {
  return SEGMENT_BASE + offset;
}

// @ts-ignore: decorator
@inline export function pack(seq: u32, owner: u32): u64 {
  return (<u64>owner << 32) | <u64>seq;
}

function strideFor(slotSize: u32): u32 {
  return (slotSize + QUEUE_SLOT_HEADER + 7) & ~7;
}

/** Bytes a queue needs, or 0 if the parameters are invalid. */
export function queueSize(slotSize: u32, slots: u32): u32 {
  if (slotSize == 0 || slotSize > QUEUE_MAX_SLOT_SIZE) return 0;
  if (slots < 2 || slots > QUEUE_MAX_SLOTS || (slots & (slots - 1)) != 0) return 0;
  const size = <u64>QUEUE_SLOTS_START + <u64>slots * strideFor(slotSize);
  return size > (1 << 30) ? 0 : <u32>size;
}

export function queueInit(offset: u32, slotSize: u32, slots: u32): void {
  const a = at(offset);
  const stride = strideFor(slotSize);
  store<u32>(a + SLOT_SIZE, slotSize);
  store<u32>(a + SLOTS, slots);
  store<u32>(a + STRIDE, stride);
  for (let i: u32 = 0; i < slots; i++) store<u64>(a + QUEUE_SLOTS_START + i * stride + SEQ, pack(i, 0));
}

/** The slot count if the stored geometry is one this object can have inside the segment, else 0. */
export function slotsOf(offset: u32): u32 {
  const a = at(offset);
  const slots = load<u32>(a + SLOTS);
  const size = queueSize(load<u32>(a + SLOT_SIZE), slots);
  if (size == 0 || load<u32>(a + STRIDE) != strideFor(load<u32>(a + SLOT_SIZE))) return 0;
  return inObject(offset, size) ? slots : 0;
}

/** A structural check of a queue found in a segment being opened. */
export function queueValidate(offset: u32, size: u32): bool {
  const a = at(offset);
  const needed = queueSize(load<u32>(a + SLOT_SIZE), load<u32>(a + SLOTS));
  return needed != 0 && needed <= size && load<u32>(a + STRIDE) == strideFor(load<u32>(a + SLOT_SIZE));
}

// @ts-ignore: decorator
@inline export function slotAt(a: u32, pos: u32, slots: u32): u32 {
  return a + QUEUE_SLOTS_START + (pos & (slots - 1)) * load<u32>(a + STRIDE);
}

/**
 * Claims a free slot to fill (try: never waits). Returns the segment offset
 * of its payload (slotSize bytes), or -FULL, -CORRUPT. Finish with
 * queueCommit.
 */
export function queueClaim(offset: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  let s: u32 = 0;
  let seq: u32 = 0;
  for (let round: u32 = 0; round < slots + EXTRA_ROUNDS; round++) {
    const pos = atomic.load<u32>(a + ENQUEUE_POS);
    s = slotAt(a, pos, slots);
    // SYNC: acquire; pairs with the consumer's release store64 that freed the slot.
    const h = atomic.load<u64>(s + SEQ);
    seq = <u32>h;
    const owner = <u32>(h >> 32);
    const dif = <i32>(seq - pos);
    if (dif == 0 && owner == 0) {
      if (atomic.cmpxchg<u64>(s + SEQ, h, pack(pos, selfPid)) != h) continue;
      writeHolderRecord(s + OWNER_RECORD_PID, s + OWNER_START);
      atomic.cmpxchg<u32>(a + ENQUEUE_POS, pos, pos + 1);
      return <i32>(s + QUEUE_SLOT_HEADER - SEGMENT_BASE);
    }
    if (dif < 0) {
      requestWait(s + SEQ, <i32>seq);
      return -FULL;
    }
    // Claimed for pos by someone who has not advanced enqueuePos yet (or
    // died before): WRITING (dif 0), READY or READING (1), or already freed
    // for the next lap (slots). Help by advancing it.
    if (dif == 0 || dif == 1 || <u32>dif == slots) {
      atomic.cmpxchg<u32>(a + ENQUEUE_POS, pos, pos + 1);
      continue;
    }
    // No state explains this sequence for pos, unless pos moved meanwhile.
    if (atomic.load<u32>(a + ENQUEUE_POS) == pos) return -CORRUPT;
  }
  requestWait(s + SEQ, <i32>seq);
  return -FULL;
}

/** The index of the slot whose payload is at `payload`, or -1 if none is. */
function slotIndexOf(a: u32, offset: u32, slots: u32, payload: u32): i32 {
  const first = offset + QUEUE_SLOTS_START + QUEUE_SLOT_HEADER;
  const stride = load<u32>(a + STRIDE);
  if (payload < first || (payload - first) % stride != 0 || (payload - first) / stride >= slots) return -1;
  return <i32>((payload - first) / stride);
}

/** The slot address of a WRITING slot this process claimed, or 0. */
function claimedSlot(a: u32, offset: u32, slots: u32, payload: u32): u32 {
  const index = slotIndexOf(a, offset, slots, payload);
  if (index < 0) return 0;
  const s = SEGMENT_BASE + payload - QUEUE_SLOT_HEADER;
  const h = atomic.load<u64>(s + SEQ);
  // WRITING: seq is this slot's own position (seq & (slots - 1) == index).
  if (<u32>(h >> 32) != selfPid || (<u32>h & (slots - 1)) != <u32>index) return 0;
  return s;
}

export function publish(a: u32, s: u32, length: u32, type: u32): void {
  store<u32>(s + LENGTH, length);
  store<u32>(s + TYPE, type);
  atomic.store<u32>(s + OWNER_RECORD_PID, 0);
  // SYNC: release; publishes length, type and payload to the consumer's CAS.
  atomic.store<u64>(s + SEQ, pack(atomic.load<u32>(s + SEQ) + 1, 0));
  if (atomic.load<u32>(a + NOT_EMPTY_SLEEPERS) != 0) {
    atomic.add<u32>(a + NOT_EMPTY_EPOCH, 1);
    hostWake(a + NOT_EMPTY_EPOCH, 1);
  }
}

/**
 * Publishes a claimed slot with `length` payload bytes of `type`: OK, or
 * -TOO_LARGE (length > slotSize), -INVALID_ARGUMENT (type), -NOT_OWNER (not a
 * slot this process claimed), -CORRUPT.
 */
export function queueCommit(offset: u32, payload: u32, length: u32, type: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  if (type > QUEUE_TYPE_MAX) return -INVALID_ARGUMENT;
  if (length > load<u32>(a + SLOT_SIZE)) return -TOO_LARGE;
  const s = claimedSlot(a, offset, slots, payload);
  if (s == 0) return -NOT_OWNER;
  publish(a, s, length, type);
  return OK;
}

/** Gives up a claimed slot: it is published as a tombstone that consumers skip. */
export function queueAbort(offset: u32, payload: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  const s = claimedSlot(a, offset, slots, payload);
  if (s == 0) return -NOT_OWNER;
  publish(a, s, TOMBSTONE, 0);
  return OK;
}

/** Gives a slot back: FREE for the next lap; wakes a parked producer if any. */
export function free(a: u32, s: u32, seq: u32, slots: u32): void {
  atomic.store<u32>(s + OWNER_RECORD_PID, 0);
  // SYNC: release; the producer that claims the slot next sees our reads done.
  atomic.store<u64>(s + SEQ, pack(seq - 1 + slots, 0));
  if (atomic.load<u32>(a + NOT_FULL_SLEEPERS) != 0) {
    atomic.add<u32>(a + NOT_FULL_EPOCH, 1);
    hostWake(a + NOT_FULL_EPOCH, 1);
  }
}

/**
 * Takes the next message (try: never waits). Returns the segment offset of
 * its payload, with (offset, length, type) in queueScratch, or -EMPTY,
 * -CORRUPT. The slot stays this process's until queueRelease.
 */
export function queueRead(offset: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  let s: u32 = 0;
  let seq: u32 = 0;
  for (let round: u32 = 0; round < slots + EXTRA_ROUNDS; round++) {
    const pos = atomic.load<u32>(a + DEQUEUE_POS);
    s = slotAt(a, pos, slots);
    const h = atomic.load<u64>(s + SEQ);
    seq = <u32>h;
    const dif = <i32>(seq - (pos + 1));
    if (dif == 0 && <u32>(h >> 32) == 0) {
      // SYNC: acquire; pairs with the release store64 in queueCommit.
      if (atomic.cmpxchg<u64>(s + SEQ, h, pack(seq, selfPid)) != h) continue;
      writeHolderRecord(s + OWNER_RECORD_PID, s + OWNER_START);
      atomic.cmpxchg<u32>(a + DEQUEUE_POS, pos, pos + 1);
      const length = load<u32>(s + LENGTH);
      if (length == TOMBSTONE) {
        free(a, s, seq, slots);
        continue;
      }
      if (length > load<u32>(a + SLOT_SIZE)) {
        free(a, s, seq, slots);
        return -CORRUPT;
      }
      const payload = s + QUEUE_SLOT_HEADER - SEGMENT_BASE;
      store<u32>(queueScratch, payload);
      store<u32>(queueScratch + 4, length);
      store<u32>(queueScratch + 8, load<u32>(s + TYPE));
      return <i32>payload;
    }
    if (dif < 0) {
      requestWait(s + SEQ, <i32>seq);
      return -EMPTY;
    }
    // Taken for pos by someone who has not advanced dequeuePos yet: READING
    // (dif 0), or already freed for the next lap (slots - 1), or claimed or
    // committed in that lap (slots - 1 owned, slots). Help by advancing it.
    if (dif == 0 || <u32>dif == slots - 1 || <u32>dif == slots) {
      atomic.cmpxchg<u32>(a + DEQUEUE_POS, pos, pos + 1);
      continue;
    }
    if (atomic.load<u32>(a + DEQUEUE_POS) == pos) return -CORRUPT;
  }
  requestWait(s + SEQ, <i32>seq);
  return -EMPTY;
}

/** True if `payload` is the payload of a slot this process claimed and has not committed. */
export function writingSlot(offset: u32, payload: u32): bool {
  const slots = slotsOf(offset);
  return slots != 0 && claimedSlot(at(offset), offset, slots, payload) != 0;
}

/** True if `payload` is the payload of a slot this process took with queueRead and holds. */
export function readingSlot(offset: u32, payload: u32): bool {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return false;
  const index = slotIndexOf(a, offset, slots, payload);
  if (index < 0) return false;
  const h = atomic.load<u64>(SEGMENT_BASE + payload - QUEUE_SLOT_HEADER + SEQ);
  // READING: seq is one past this slot's own position.
  return <u32>(h >> 32) == selfPid && ((<u32>h - 1) & (slots - 1)) == <u32>index;
}

/** Releases a slot taken by queueRead: OK, -NOT_OWNER, -INVALID_ARGUMENT, -CORRUPT. */
export function queueRelease(offset: u32, payload: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  if (slotIndexOf(a, offset, slots, payload) < 0) return -INVALID_ARGUMENT;
  if (!readingSlot(offset, payload)) return -NOT_OWNER;
  const s = SEGMENT_BASE + payload - QUEUE_SLOT_HEADER;
  free(a, s, atomic.load<u32>(s + SEQ), slots);
  return OK;
}

