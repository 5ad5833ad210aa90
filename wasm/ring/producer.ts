// The producer side of the SPSC byte ring (layout and protocol: ring/layout.ts):
// claim room for records, fill them in place, commit them all with one
// store of tail.

import { SEGMENT_BASE } from "../segment/layout";
import { hostWake } from "../base/host";
import { requestWait } from "../base/context";
import { CORRUPT, FULL, INVALID_ARGUMENT, MUST_WAIT, NOT_OWNER, PEER_DIED, TOO_LARGE } from "../base/status";
import { block, holdsRole, roleDead, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import {
  at, capacityOf, CLAIM_END, COMMITS, CONSUMER_PID, CONSUMER_RECORD_PID, CONSUMER_SLEEPERS,
  CONSUMER_START, HEAD, HEAD_CACHE, IN_PROGRESS, LENGTH, PADDING, PRODUCER_PID,
  PRODUCER_SLEEPERS, RING_DATA, RING_RECORD_HEADER, RING_TYPE_MAX, ringScratch, recordSize,
  ROLE_PRODUCER, TAIL, TYPE,
} from "./layout";

/** Room a record of `size` bytes takes at `pos`, padding to the end included. */
// @ts-ignore: decorator
@inline function roomFor(pos: u32, size: u32, capacity: u32): u32 {
  const toEnd = capacity - (pos & (capacity - 1));
  return size > toEnd ? toEnd + size : size;
}

function claimOne(a: u32, capacity: u32, length: u32, type: u32, mayPad: bool): i32 {
  if (length > capacity / 2 - RING_RECORD_HEADER) return -TOO_LARGE;
  if (type > RING_TYPE_MAX) return -INVALID_ARGUMENT;
  const size = recordSize(length);
  const pos = load<u32>(a + CLAIM_END);
  const index = pos & (capacity - 1);
  if ((index & 7) != 0) return -CORRUPT;
  const toEnd = capacity - index;
  const pad = size > toEnd ? toEnd : 0;
  // A batch (mayPad false) must stay contiguous: it stops at the end of the data.
  if (!mayPad && (pad != 0 || index == 0)) return -FULL;
  const need = pad + size;
  let head = load<u32>(a + HEAD_CACHE);
  if (need > capacity - (pos - head)) {
    // SYNC: acquire; pairs with the release of head in ringRelease: the
    // consumer is done with every byte before it.
    head = atomic.load<u32>(a + HEAD);
    store<u32>(a + HEAD_CACHE, head);
    if (pos - head > capacity || pos - atomic.load<u32>(a + TAIL) > capacity) return -CORRUPT;
    if (need > capacity - (pos - head)) {
      requestWait(a + HEAD, <i32>head);
      return -FULL;
    }
  }
  let h = a + RING_DATA + index;
  if (pad != 0) {
    store<u32>(h + TYPE, PADDING);
    store<u32>(h + LENGTH, pad - RING_RECORD_HEADER);
    h = a + RING_DATA;
  }
  store<u32>(h + TYPE, type);
  store<u32>(h + LENGTH, length | IN_PROGRESS);
  store<u32>(a + CLAIM_END, pos + need);
  return <i32>(h + RING_RECORD_HEADER - SEGMENT_BASE);
}

/**
 * Claims room for a record of `length` payload bytes (try: never waits).
 * Returns the segment offset of the payload to fill, or -FULL, -TOO_LARGE
 * (length > capacity / 2 - 8), -NOT_OWNER (not attached as producer),
 * -INVALID_ARGUMENT (type) or -CORRUPT. Claims pile up until ringCommit.
 */
export function ringClaim(offset: u32, length: u32, type: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + PRODUCER_PID)) return -NOT_OWNER;
  return claimOne(a, capacity, length, type, true);
}

/**
 * Claims up to `count` records of `length` bytes, contiguous (it stops
 * before a wrap). Returns how many (>= 1) with the first payload offset and
 * the stride in ringScratch, or the status of the first claim.
 */
export function ringClaimMany(offset: u32, count: u32, length: u32, type: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + PRODUCER_PID)) return -NOT_OWNER;
  let n: u32 = 0;
  let first: i32 = 0;
  while (n < count) {
    const r = claimOne(a, capacity, length, type, n == 0);
    if (r < 0) {
      if (n == 0) return r;
      break;
    }
    if (n == 0) first = r;
    n++;
  }
  store<u32>(ringScratch, <u32>first);
  store<u32>(ringScratch + 4, recordSize(length));
  return <i32>n;
}

/** One step of a blocking claim (see waiting.ts); arg0 = length, arg1 = type. */
export function ringClaimStep(offset: u32, length: u32, type: u32, flags: u32): i32 {
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + PRODUCER_SLEEPERS, 1);
  let r = ringClaim(offset, length, type);
  if (r != -FULL) return r;
  // Uncommitted claims that leave no room could never be consumed: waiting would never end.
  const capacity = capacityOf(offset);
  const pos = load<u32>(a + CLAIM_END);
  const pending = pos - load<u32>(a + TAIL);
  if (pending > capacity || roomFor(pos, recordSize(length), capacity) > capacity - pending) {
    return -FULL;
  }
  if ((flags & STEP_CHECK_PEER) != 0 &&
      roleDead(a + CONSUMER_PID, a + CONSUMER_RECORD_PID, a + CONSUMER_START, true)) {
    return -PEER_DIED;
  }
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + PRODUCER_SLEEPERS, 1);
    r = ringClaim(offset, length, type);
    if (r != -FULL) atomic.sub<u32>(a + PRODUCER_SLEEPERS, 1);
    if (r != -FULL) return r;
  }
  return -MUST_WAIT;
}

/** Withdraws the sleeper a MUST_WAIT step registered (producer or consumer side). */
export function ringCancelWait(offset: u32, role: u32): void {
  atomic.sub<u32>(at(offset) + (role == ROLE_PRODUCER ? PRODUCER_SLEEPERS : CONSUMER_SLEEPERS), 1);
}

function cancelClaim(offset: u32, unused: u32): void {
  ringCancelWait(offset, ROLE_PRODUCER);
}

/**
 * Claims, waiting for room at most `timeoutMs` (negative: no limit) under
 * the wait policy `spins` (base/waiting.ts). Results as ringClaim, plus
 * -TIMED_OUT and -PEER_DIED (the consumer died while the ring was full).
 */
export function ringClaimWait(offset: u32, length: u32, type: u32, timeoutMs: f64, spins: i32): i32 {
  return block(ringClaimStep, cancelClaim, offset, length, type, timeoutMs, spins);
}

/** Aborts the uncommitted claims. */
export function ringAbort(offset: u32): void {
  const a = at(offset);
  if (holdsRole(a + PRODUCER_PID)) store<u32>(a + CLAIM_END, load<u32>(a + TAIL));
}

/**
 * Publishes every claimed record: clears IN_PROGRESS in each header, then
 * moves tail. Returns how many records it published, or -NOT_OWNER,
 * -CORRUPT.
 */
export function ringCommit(offset: u32): i32 {
  const a = at(offset);
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(a + PRODUCER_PID)) return -NOT_OWNER;
  let pos = load<u32>(a + TAIL);
  const end = load<u32>(a + CLAIM_END);
  if (end - pos > capacity || ((end | pos) & 7) != 0) return -CORRUPT;
  let records: u32 = 0;
  while (pos != end) {
    const index = pos & (capacity - 1);
    const h = a + RING_DATA + index;
    const word = load<u32>(h + LENGTH) & ~IN_PROGRESS;
    if (word > capacity) return -CORRUPT;
    let size: u32;
    if (load<u32>(h + TYPE) == PADDING) {
      size = word + RING_RECORD_HEADER;
    } else {
      store<u32>(h + LENGTH, word);
      size = recordSize(word);
      records++;
    }
    if (size > end - pos || size > capacity - index) return -CORRUPT;
    pos += size;
  }
  // SYNC: release; publishes the headers and payloads below `end` to the
  // consumer's acquiring load of tail.
  atomic.store<u32>(a + TAIL, end);
  store<u64>(a + COMMITS, load<u64>(a + COMMITS) + records);
  if (atomic.load<u32>(a + CONSUMER_SLEEPERS) != 0) hostWake(a + TAIL, 1);
  return <i32>records;
}
