// The operations of the MPMC queue (layout, slot states and the protocol:
// queue/layout.ts): claim and commit (producers), read and release (consumers),
// each bounded by the geometry.

import { SEGMENT_BASE } from "../segment/layout";
import { hostWake } from "../base/host";
import { requestWait, selfPid, writeHolderRecord } from "../base/context";
import { CORRUPT, EMPTY, FULL, INVALID_ARGUMENT, NOT_OWNER, OK, TOO_LARGE } from "../base/status";
import {
  at, EXTRA_ROUNDS, DEQUEUE_POS, ENQUEUE_POS, LENGTH, NOT_EMPTY_EPOCH, NOT_EMPTY_SLEEPERS, NOT_FULL_EPOCH,
  NOT_FULL_SLEEPERS, OWNER_RECORD_PID, OWNER_START, pack, QUEUE_SLOT_HEADER, QUEUE_SLOTS_START,
  QUEUE_TYPE_MAX, queueScratch, SEQ, SLOT_SIZE, slotAt, slotsOf, STRIDE, TOMBSTONE, TYPE,
} from "./layout";

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


