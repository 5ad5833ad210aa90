// Waiting on the MPMC queue (layout and protocol: queue/layout.ts): the step
// functions behind the blocking and async claim and read, the recovery of
// slots held by dead processes, and the queue's inspection numbers.

import { hostWake } from "../base/host";
import { recordedHolderAlive, requestWait, selfPid } from "../base/context";
import { EMPTY, FULL, MUST_WAIT } from "../base/status";
import { block, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import { at, DEQUEUE_POS, ENQUEUE_POS, NOT_EMPTY_EPOCH, NOT_EMPTY_SLEEPERS, NOT_FULL_EPOCH, NOT_FULL_SLEEPERS, OWNER_RECORD_PID, OWNER_START, pack, SEQ, SLOT_SIZE, slotAt, slotsOf, TOMBSTONE } from "./layout";
import { free, queueClaim, queueRead, publish } from "./operations";

/** The slot at dequeuePos is WRITING by a dead process: take it over and publish a tombstone. */
function recoverDeadWriter(a: u32, slots: u32): void {
  const pos = atomic.load<u32>(a + DEQUEUE_POS);
  const s = slotAt(a, pos, slots);
  const h = atomic.load<u64>(s + SEQ);
  const owner = <u32>(h >> 32);
  if (<u32>h != pos || owner == 0 || owner == selfPid) return;
  if (recordedHolderAlive(s + OWNER_RECORD_PID, s + OWNER_START, owner)) return;
  // Owning the slot first means no late recoverer can write into a later lap.
  if (atomic.cmpxchg<u64>(s + SEQ, h, pack(pos, selfPid)) != h) return;
  publish(a, s, TOMBSTONE, 0);
}

/** The slot at enqueuePos is READING by a dead process: release it on its behalf. */
function recoverDeadReader(a: u32, slots: u32): void {
  const pos = atomic.load<u32>(a + ENQUEUE_POS);
  const s = slotAt(a, pos, slots);
  const h = atomic.load<u64>(s + SEQ);
  const seq = <u32>h;
  const owner = <u32>(h >> 32);
  if (seq != pos - slots + 1 || owner == 0 || owner == selfPid) return;
  if (recordedHolderAlive(s + OWNER_RECORD_PID, s + OWNER_START, owner)) return;
  if (atomic.cmpxchg<u64>(s + SEQ, h, pack(seq, selfPid)) != h) return;
  free(a, s, seq, slots);
}

/** One step of a blocking claim (see waiting.ts). */
export function queueClaimStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + NOT_FULL_SLEEPERS, 1);
  let r = queueClaim(offset);
  if (r != -FULL) return r;
  if ((flags & STEP_CHECK_PEER) != 0) {
    recoverDeadReader(a, slotsOf(offset));
    r = queueClaim(offset);
    if (r != -FULL) return r;
  }
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + NOT_FULL_SLEEPERS, 1);
    const epoch = atomic.load<u32>(a + NOT_FULL_EPOCH);
    r = queueClaim(offset);
    if (r != -FULL) {
      atomic.sub<u32>(a + NOT_FULL_SLEEPERS, 1);
      return r;
    }
    requestWait(a + NOT_FULL_EPOCH, <i32>epoch);
  }
  return -MUST_WAIT;
}

/** One step of a blocking read (see waiting.ts). */
export function queueReadStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + NOT_EMPTY_SLEEPERS, 1);
  let r = queueRead(offset);
  if (r != -EMPTY) return r;
  if ((flags & STEP_CHECK_PEER) != 0) {
    recoverDeadWriter(a, slotsOf(offset));
    r = queueRead(offset);
    if (r != -EMPTY) return r;
  }
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + NOT_EMPTY_SLEEPERS, 1);
    const epoch = atomic.load<u32>(a + NOT_EMPTY_EPOCH);
    r = queueRead(offset);
    if (r != -EMPTY) {
      atomic.sub<u32>(a + NOT_EMPTY_SLEEPERS, 1);
      return r;
    }
    requestWait(a + NOT_EMPTY_EPOCH, <i32>epoch);
  }
  return -MUST_WAIT;
}

/** Withdraws the sleeper a MUST_WAIT step registered (producer side if `producer` is 1). */
export function queueCancelWait(offset: u32, producer: u32): void {
  atomic.sub<u32>(at(offset) + (producer != 0 ? NOT_FULL_SLEEPERS : NOT_EMPTY_SLEEPERS), 1);
}

function cancelClaim(offset: u32, unused: u32): void {
  queueCancelWait(offset, 1);
}

function cancelRead(offset: u32, unused: u32): void {
  queueCancelWait(offset, 0);
}

/** Claims a slot, waiting at most `timeoutMs` (negative: no limit) under the policy `spins`. */
export function queueClaimWait(offset: u32, timeoutMs: f64, spins: i32): i32 {
  return block(queueClaimStep, cancelClaim, offset, 0, 0, timeoutMs, spins);
}

/** Takes a message, waiting at most `timeoutMs` (negative: no limit) under the policy `spins`. */
export function queueReadWait(offset: u32, timeoutMs: f64, spins: i32): i32 {
  return block(queueReadStep, cancelRead, offset, 0, 0, timeoutMs, spins);
}

/** Wakes every parked consumer (they look again and, finding nothing, park again). */
export function queueInterrupt(offset: u32): void {
  const a = at(offset);
  atomic.add<u32>(a + NOT_EMPTY_EPOCH, 1);
  hostWake(a + NOT_EMPTY_EPOCH, i32.MAX_VALUE);
}

export const QUEUE_INFO_SLOTS: u32 = 0;
export const QUEUE_INFO_SLOT_SIZE: u32 = 1;
export const QUEUE_INFO_ENQUEUED: u32 = 2;
export const QUEUE_INFO_DEQUEUED: u32 = 3;

/** One inspection number (QUEUE_INFO_*); positions wrap at 2^32. -1 if corrupt. */
export function queueInfo(offset: u32, which: u32): f64 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -1;
  if (which == QUEUE_INFO_SLOTS) return slots;
  if (which == QUEUE_INFO_SLOT_SIZE) return load<u32>(a + SLOT_SIZE);
  if (which == QUEUE_INFO_ENQUEUED) return atomic.load<u32>(a + ENQUEUE_POS);
  if (which == QUEUE_INFO_DEQUEUED) return atomic.load<u32>(a + DEQUEUE_POS);
  return -1;
}
