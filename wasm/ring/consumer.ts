// The consumer side of the SPSC byte ring (layout and protocol: ring/layout.ts):
// hand out committed records in place, then release them all with one store
// of head. Also the ring's inspection numbers.

import { SEGMENT_BASE } from "../segment/layout";
import { hostWake } from "../base/host";
import { requestWait } from "../base/context";
import { CORRUPT, EMPTY, MUST_WAIT, NOT_OWNER, OK, PEER_DIED } from "../base/status";
import { block, holdsRole, roleDead, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import {
  at, capacityOf, CLAIM_END, COMMITS, CONSUMER_PID, CONSUMER_SLEEPERS, HEAD, IN_PROGRESS,
  LENGTH, PADDING, PRODUCER_PID, PRODUCER_RECORD_PID, PRODUCER_SLEEPERS, PRODUCER_START,
  READ_END, READS, RING_BATCH_MAX, RING_DATA, RING_RECORD_HEADER, ringScratch, recordSize,
  TAIL, TAIL_CACHE, TYPE,
} from "./layout";

/** Hands out the next record, writing (payload offset, length, type) at `out`. */
function readOne(a: u32, capacity: u32, out: usize): i32 {
  let pos = load<u32>(a + READ_END);
  while (true) {
    let tail = load<u32>(a + TAIL_CACHE);
    if (pos == tail) {
      // SYNC: acquire; pairs with the release of tail in ringCommit: the
      // records below it are complete.
      tail = atomic.load<u32>(a + TAIL);
      store<u32>(a + TAIL_CACHE, tail);
      if (pos == tail) {
        requestWait(a + TAIL, <i32>tail);
        return -EMPTY;
      }
    }
    const available = tail - pos;
    if (available > capacity || (pos & 7) != 0) return -CORRUPT;
    const index = pos & (capacity - 1);
    const h = a + RING_DATA + index;
    const word = load<u32>(h + LENGTH);
    const type = load<u32>(h + TYPE);
    // Below tail every record is committed; anything else is a corrupt ring.
    if ((word & IN_PROGRESS) != 0) return -CORRUPT;
    if (type == PADDING) {
      if (word + RING_RECORD_HEADER != capacity - index || capacity - index > available) return -CORRUPT;
      pos += capacity - index;
      store<u32>(a + READ_END, pos);
      continue;
    }
    if (word > capacity / 2 - RING_RECORD_HEADER) return -CORRUPT;
    const size = recordSize(word);
    if (size > available || size > capacity - index) return -CORRUPT;
    store<u32>(a + READ_END, pos + size);
    store<u64>(a + READS, load<u64>(a + READS) + 1);
    const payload = h + RING_RECORD_HEADER - SEGMENT_BASE;
    store<u32>(out, payload);
    store<u32>(out + 4, word);
    store<u32>(out + 8, type);
    return <i32>payload;
  }
}

/**
 * Hands out the next committed record without copying (try: never waits).
 * Returns the segment offset of its payload, with (offset, length, type) in
 * ringScratch, or -EMPTY, -NOT_OWNER (not attached as consumer), -CORRUPT.
 * The bytes stay valid until ringRelease.
 */
export function ringRead(offset: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + CONSUMER_PID)) return -NOT_OWNER;
  return readOne(a, capacity, ringScratch);
}

/**
 * Hands out up to `max` records (at most RING_BATCH_MAX), their triples in
 * ringScratch. Returns how many (>= 1), or the status of the first read.
 */
export function ringReadMany(offset: u32, max: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + CONSUMER_PID)) return -NOT_OWNER;
  if (max > RING_BATCH_MAX) max = RING_BATCH_MAX;
  let n: u32 = 0;
  while (n < max) {
    const r = readOne(a, capacity, ringScratch + n * 12);
    if (r < 0) {
      if (n == 0) return r;
      break;
    }
    n++;
  }
  return <i32>n;
}

/** One step of a blocking read (see waiting.ts); arg0 = max records (0: one, ringRead). */
export function ringReadStep(offset: u32, max: u32, unused: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + CONSUMER_SLEEPERS, 1);
  let r = max == 0 ? ringRead(offset) : ringReadMany(offset, max);
  if (r != -EMPTY) return r;
  if ((flags & STEP_CHECK_PEER) != 0 &&
      roleDead(a + PRODUCER_PID, a + PRODUCER_RECORD_PID, a + PRODUCER_START, true)) {
    return -PEER_DIED;
  }
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + CONSUMER_SLEEPERS, 1);
    r = max == 0 ? ringRead(offset) : ringReadMany(offset, max);
    if (r != -EMPTY) atomic.sub<u32>(a + CONSUMER_SLEEPERS, 1);
    if (r != -EMPTY) return r;
  }
  return -MUST_WAIT;
}

function cancelRead(offset: u32, unused: u32): void {
  atomic.sub<u32>(at(offset) + CONSUMER_SLEEPERS, 1);
}

/**
 * Reads (max = 0: one record, as ringRead; else up to max, as ringReadMany),
 * waiting at most `timeoutMs` (negative: no limit) under the policy `spins`.
 * Also -TIMED_OUT, and -PEER_DIED once when the producer died and nothing is
 * left to read (a new producer may attach afterwards).
 */
export function ringReadWait(offset: u32, max: u32, timeoutMs: f64, spins: i32): i32 {
  return block(ringReadStep, cancelRead, offset, max, 0, timeoutMs, spins);
}

/** Releases every record handed out so far, so the producer may reuse its bytes. */
export function ringRelease(offset: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + CONSUMER_PID)) return -NOT_OWNER;
  const end = load<u32>(a + READ_END);
  const head = load<u32>(a + HEAD);
  if (end == head) return OK;
  if (end - head > capacity) return -CORRUPT;
  // SYNC: release; the producer may overwrite these bytes once it sees the new head.
  atomic.store<u32>(a + HEAD, end);
  if (atomic.load<u32>(a + PRODUCER_SLEEPERS) != 0) hostWake(a + HEAD, 1);
  return OK;
}

export const RING_INFO_CAPACITY: u32 = 0;
export const RING_INFO_USED: u32 = 1;
export const RING_INFO_PRODUCER: u32 = 2;
export const RING_INFO_CONSUMER: u32 = 3;
export const RING_INFO_COMMITS: u32 = 4;
export const RING_INFO_READS: u32 = 5;
export const RING_INFO_CLAIMED: u32 = 6;
export const RING_INFO_UNRELEASED: u32 = 7;

/** One inspection number (RING_INFO_*); stale as soon as read. -1 if the ring is corrupt. */
export function ringInfo(offset: u32, which: u32): f64 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -1;
  if (which == RING_INFO_CAPACITY) return capacity;
  if (which == RING_INFO_USED) return <f64>(atomic.load<u32>(a + TAIL) - atomic.load<u32>(a + HEAD));
  if (which == RING_INFO_PRODUCER) return atomic.load<u32>(a + PRODUCER_PID);
  if (which == RING_INFO_CONSUMER) return atomic.load<u32>(a + CONSUMER_PID);
  if (which == RING_INFO_COMMITS) return <f64>load<u64>(a + COMMITS);
  if (which == RING_INFO_READS) return <f64>load<u64>(a + READS);
  if (which == RING_INFO_CLAIMED) return <f64>(load<u32>(a + CLAIM_END) - atomic.load<u32>(a + TAIL));
  if (which == RING_INFO_UNRELEASED) return <f64>(load<u32>(a + READ_END) - atomic.load<u32>(a + HEAD));
  return -1;
}
