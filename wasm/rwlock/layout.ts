// Robust reader-writer lock: many readers or one writer; a waiting writer
// keeps new readers out, so writers never starve. This file is its layout
// and the whole protocol in prose; rwlock/readers.ts holds the readers' side
// (slots and the `exits` futex), rwlock/rwlock.ts the writer's side and the exports.
//
// Layout (RWLOCK_HEADER + slots * SLOT_SIZE bytes at a CACHE_LINE-aligned offset):
//
//  0    ┌────────────────────────────────────────────────────────────────┐
//       │ state u32: 0 = no writer; else writerPid | WAITERS (bit 31),   │
//       │            or STATE_NOT_RECOVERABLE   (futex: waiting lockers) │
//  4    │ consistency u32: CONSISTENT | INCONSISTENT | UNRECOVERABLE     │
//  8    │ holderStartTicks u64   (the writer's start time)               │
//  16   │ holderRecordPid u32    (the pid that start time belongs to)    │
//  20   │ phase u32: DRAINING (writer waits for readers) | HOLDING       │
//  24   │ slotCount u32          (set at creation, never changed)        │
//  64   ├────────────────────────────────────────────────────────────────┤
//       │ exits u32: sequence (bits 0-30) | SLEEPING (bit 31)            │
//       │            (futex: draining writers and slot-less readers)     │
//  128  ├────────────────────────────────────────────────────────────────┤
//       │ slot i < slotCount, one cache line each:                       │
//       │   word u64: pid << 32 | count (read holds of that process)     │
//       │   startTicks u64: that pid's start time, 0 = not known yet     │
//       └────────────────────────────────────────────────────────────────┘
//
// Who writes what: `state` changes only by compare-and-swap (a writer claims
// 0 -> pid; a waiter sets WAITERS; a taker replaces a dead writer) or by the
// writer's swap back to 0. The claiming writer alone writes the record,
// `phase` and `consistency`. A slot word is written by its process (claim
// 0 -> pid|1, count up and down), by anyone freeing a slot whose count is 0,
// and by a writer, or a reader that found no free slot, reaping the slot of a
// dead process; always by CAS.
//
// A reader: count up its own slot, then read `state`; a writer: CAS `state`,
// then read every slot. All atomics are sequentially consistent, so one of
// them sees the other (Dekker): the reader backs off, or the writer waits
// for that count to drop. A leaving reader counts down, then reads `exits`;
// if SLEEPING is set it bumps the sequence and wakes every sleeper there.
//
// Robustness. Dead readers never corrupt anything: a draining writer whose
// sleep ran a whole liveness slice frees the slots of dead processes (pid
// plus start time, so a reused pid does not count). A dead writer is found by
// any locker whose sleep on `state` ran a whole slice. If it died DRAINING on
// a CONSISTENT lock it never had exclusive access: a reader releases the word
// on its behalf, a writer simply takes it. Otherwise the taker gets
// OWNER_DIED and holds the lock EXCLUSIVELY (also when it asked to read), the
// lock is INCONSISTENT until it calls rwlockConsistent(), and a write unlock
// without that makes it NOT_RECOVERABLE (pthread robust mutex semantics).
//
// Publish order. Claim: CAS state -> record start ticks -> record pid ->
// [INCONSISTENT] -> phase DRAINING; drained: phase HOLDING. Release: record
// pid 0 -> phase DRAINING -> swap state to 0 -> wake all if WAITERS.


import { SEGMENT_BASE, at } from "../segment/layout";
import { inObject } from "../base/context";

export const RWLOCK_HEADER: u32 = 128;
export const RWLOCK_SLOT_SIZE: u32 = 64;
/** Reader slots when the creator asks for none in particular. */
export const RWLOCK_DEFAULT_READERS: u32 = 32;
export const RWLOCK_MAX_READERS: u32 = 4096;

// @ts-ignore: decorator
@inline export const STATE: u32 = 0;
// @ts-ignore: decorator
@inline export const CONSISTENCY: u32 = 4;
// @ts-ignore: decorator
@inline export const HOLDER_START: u32 = 8;
// @ts-ignore: decorator
@inline export const HOLDER_RECORD_PID: u32 = 16;
// @ts-ignore: decorator
@inline export const PHASE: u32 = 20;
// @ts-ignore: decorator
@inline export const SLOT_COUNT: u32 = 24;
// @ts-ignore: decorator
@inline export const EXITS: u32 = 64;
// @ts-ignore: decorator
@inline export const SLOT_WORD: u32 = 0;
// @ts-ignore: decorator
@inline export const SLOT_TICKS: u32 = 8;

// @ts-ignore: decorator
@inline export const WAITERS: u32 = 0x80000000;
// @ts-ignore: decorator
@inline export const PID_MASK: u32 = 0x3FFFFFFF;
/** Larger than any Linux pid, so no writer has it. */
// @ts-ignore: decorator
@inline export const STATE_NOT_RECOVERABLE: u32 = 0x3FFFFFFF;
// @ts-ignore: decorator
@inline export const SLEEPING: u32 = 0x80000000;
// @ts-ignore: decorator
@inline export const DRAINING: u32 = 0;
// @ts-ignore: decorator
@inline export const HOLDING: u32 = 1;
// @ts-ignore: decorator
@inline export const CONSISTENT: u32 = 0;
// @ts-ignore: decorator
@inline export const INCONSISTENT: u32 = 1;
// @ts-ignore: decorator
@inline export const UNRECOVERABLE: u32 = 2;

// Internal outcomes of the helpers (never returned to the host).
// @ts-ignore: decorator
@inline export const CLAIMED: i32 = -1;
// @ts-ignore: decorator
@inline export const RETRY: i32 = -2;
// @ts-ignore: decorator
@inline export const NO_SLOT: i32 = -3;


// @ts-ignore: decorator
@inline export function slotAt(a: u32, index: u32): u32 {
  return a + RWLOCK_HEADER + index * RWLOCK_SLOT_SIZE;
}

/** The slot count, re-checked against the segment on every use; 0 if corrupt. */
export function slotCount(a: u32, offset: u32): u32 {
  const n = load<u32>(a + SLOT_COUNT);
  if (n == 0 || n > RWLOCK_MAX_READERS || !inObject(offset, RWLOCK_HEADER + n * RWLOCK_SLOT_SIZE)) return 0;
  return n;
}

export { at };
