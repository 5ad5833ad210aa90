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

import { SEGMENT_BASE, at } from "../segment/layout";
import { hostWake } from "../base/host";
import { inObject, requestWait, selfPid, writeHolderRecord } from "../base/context";
import { CORRUPT, EMPTY, FULL, INVALID_ARGUMENT, NOT_OWNER, OK, TOO_LARGE } from "../base/status";

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
@inline export const EXTRA_ROUNDS: u32 = 64;
// @ts-ignore: decorator
@inline export const TOMBSTONE: u32 = 0xFFFFFFFF;

/** Private results (page 0): (payload offset, length, type) of the last take. */
export const queueScratch: usize = memory.data(16);


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

export { at };
