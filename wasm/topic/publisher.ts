// The publisher side of a topic (layout and protocol: topic/layout.ts): take
// the role, loan the next slot, fill it in place, publish it with one stamp.

import { SEGMENT_BASE } from "../segment/layout";
import { hostWake } from "../base/host";
import { fullFence, recordedHolderAlive, requestWait, selfPid } from "../base/context";
import {
  CORRUPT, EXISTS, FULL, INVALID_ARGUMENT, MUST_WAIT, NOT_OWNER, OK, OWNER_DIED, TOO_LARGE,
} from "../base/status";
import {
  block, claimRole, holdsRole, releaseRole, ROLE_ALREADY_OURS, ROLE_BUSY, ROLE_TAKEN_OVER, STEP_CHECK_PEER,
  STEP_PARK, STEP_REGISTERED,
} from "../base/waiting";
import {
  at, CURSOR, CURSOR_NONE, EPOCH, EPOCH_SEEN, gDepth, gMaxMessage, gPolicy, gSubscribers, HEAD,
  HEAD_WORD, LENGTH, LOAN_LENGTH, LOAN_TYPE, LOANED, MIN_CACHE, PUB_PID, PUB_RECORD_PID,
  PUB_SLEEPERS, PUB_START, PUBLISHED, recordAt, slotAt, STAMP, SUB_PID, SUB_RECORD_PID,
  SUB_SLEEPERS, SUB_START, topicGeometry, TOPIC_POLICY_BLOCK, TOPIC_SLOT_HEADER, TOPIC_TYPE_MAX,
  TYPE,
} from "./layout";

/**
 * Takes the publisher role. Returns OK, OWNER_DIED (taken over from a dead
 * publisher: its unpublished loan is dropped) or -EXISTS (a live process
 * publishes). The new publisher recomputes head from the stamps: a message
 * the dead one stamped but did not count is kept, never published twice.
 */
export function topicPublisherAttach(offset: u32): i32 {
  const a = at(offset);
  if (!topicGeometry(offset)) return -CORRUPT;
  const taken = claimRole(a + PUB_PID, a + PUB_RECORD_PID, a + PUB_START);
  if (taken == ROLE_BUSY) return -EXISTS;
  if (taken == ROLE_ALREADY_OURS) return OK;
  let head = atomic.load<u64>(a + HEAD);
  // Bounded by the depth: at most one lap of stamps can be ahead of head.
  for (let i: u32 = 0; i < gDepth; i++) {
    if (atomic.load<u64>(slotAt(a, head) + STAMP) != head + 1) break;
    head++;
  }
  atomic.store<u64>(a + HEAD, head);
  atomic.store<u32>(a + HEAD_WORD, <u32>head);
  // A message the dead publisher stamped but never announced: the wake it owed is ours.
  if (atomic.load<u32>(a + SUB_SLEEPERS) != 0) hostWake(a + HEAD_WORD, 0x7FFFFFFF);
  store<u32>(a + LOANED, 0);
  // Force a fresh scan of the cursors before the first back-pressure decision.
  store<u32>(a + EPOCH_SEEN, atomic.load<u32>(a + EPOCH) - 1);
  if (taken == ROLE_TAKEN_OVER) atomic.store<u32>(a + PUB_SLEEPERS, 0);
  return taken == ROLE_TAKEN_OVER ? OWNER_DIED : OK;
}

/** Gives the publisher role up (an unpublished loan is dropped). */
export function topicPublisherDetach(offset: u32): void {
  const a = at(offset);
  if (holdsRole(a + PUB_PID)) store<u32>(a + LOANED, 0);
  releaseRole(a + PUB_PID, a + PUB_RECORD_PID);
}

/**
 * The lowest cursor of the attached subscribers (CURSOR_NONE if none), with
 * the record holding it in `slowest`. A record whose holder is dead is
 * reaped when `reap` is set: its pid is cleared by CAS from the dead pid
 * observed, so a subscriber attaching in its place at the same time is never
 * removed.
 */
let slowest: u32 = 0;
function scanCursors(a: u32, reap: bool): u64 {
  let min = CURSOR_NONE;
  for (let i: u32 = 0; i < gSubscribers; i++) {
    const r = recordAt(a, i);
    const pid = atomic.load<u32>(r + SUB_PID);
    if (pid == 0) continue;
    if (reap && pid != selfPid && !recordedHolderAlive(r + SUB_RECORD_PID, r + SUB_START, pid)) {
      // The cursor is left alone: scans skip free records, and a subscriber
      // that takes the record in between stores its own (a store here could
      // erase it: model/topic.pml found that).
      if (atomic.cmpxchg<u32>(r + SUB_PID, pid, 0) == pid) atomic.add<u32>(a + EPOCH, 1);
      continue;
    }
    // SYNC: acquire; pairs with the release of the cursor in topicRelease:
    // the subscriber is done with every message below it.
    const cursor = atomic.load<u64>(r + CURSOR);
    if (cursor < min) {
      min = cursor;
      slowest = i;
    }
  }
  return min;
}

/** Room under the BLOCK policy: true if the slot of `head` holds nothing an attached subscriber still needs. */
function roomFor(a: u32, head: u64, reap: bool): bool {
  if (head < <u64>gDepth) return true;
  const evicted = head - gDepth;
  const epoch = atomic.load<u32>(a + EPOCH);
  if (load<u64>(a + MIN_CACHE) > evicted && epoch == load<u32>(a + EPOCH_SEEN) && !reap) return true;
  store<u32>(a + EPOCH_SEEN, epoch);
  const min = scanCursors(a, reap);
  store<u64>(a + MIN_CACHE, min);
  if (min > evicted) return true;
  const r = recordAt(a, slowest);
  requestWait(r + CURSOR, <i32><u32>min);
  return false;
}

/**
 * Loans the slot of the next message for `length` payload bytes (try: never
 * waits). Returns the segment offset of the payload to fill, or -FULL (BLOCK
 * policy: a subscriber has not released the message this slot holds),
 * -TOO_LARGE, -NOT_OWNER (not the publisher), -INVALID_ARGUMENT (type),
 * -CORRUPT. Loaning again before topicPublish re-sizes the same loan.
 */
function loan(a: u32, length: u32, type: u32, reap: bool): i32 {
  if (!holdsRole(a + PUB_PID)) return -NOT_OWNER;
  if (length > gMaxMessage) return -TOO_LARGE;
  if (type > TOPIC_TYPE_MAX) return -INVALID_ARGUMENT;
  const head = load<u64>(a + HEAD);
  const slot = slotAt(a, head);
  if (load<u32>(a + LOANED) == 0) {
    if (gPolicy == TOPIC_POLICY_BLOCK && !roomFor(a, head, reap)) return -FULL;
    // SYNC: the stamp is cleared, and fenced, before any byte of the slot
    // changes: a reader that copies while we write then sees a stamp that
    // is no longer its message's and drops the copy (seqlock).
    atomic.store<u64>(slot + STAMP, 0);
    fullFence();
    store<u32>(a + LOANED, 1);
  }
  store<u32>(a + LOAN_LENGTH, length);
  store<u32>(a + LOAN_TYPE, type);
  return <i32>(slot + TOPIC_SLOT_HEADER - SEGMENT_BASE);
}

export function topicLoan(offset: u32, length: u32, type: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  return loan(at(offset), length, type, false);
}

/** One step of a blocking loan (see waiting.ts); arg0 = length, arg1 = type. */
export function topicLoanStep(offset: u32, length: u32, type: u32, flags: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + PUB_SLEEPERS, 1);
  // A slice that ran out: a dead subscriber may be what holds us back.
  let r = loan(a, length, type, (flags & STEP_CHECK_PEER) != 0);
  if (r != -FULL) return r;
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + PUB_SLEEPERS, 1);
    r = loan(a, length, type, false);
    if (r != -FULL) {
      atomic.sub<u32>(a + PUB_SLEEPERS, 1);
      return r;
    }
  }
  return -MUST_WAIT;
}

function cancelLoan(offset: u32, unused: u32): void {
  atomic.sub<u32>(at(offset) + PUB_SLEEPERS, 1);
}

/**
 * Loans, waiting for room at most `timeoutMs` (negative: no limit) under the
 * wait policy `spins` (base/waiting.ts). Results as topicLoan, plus
 * -TIMED_OUT.
 */
export function topicLoanWait(offset: u32, length: u32, type: u32, timeoutMs: f64, spins: i32): i32 {
  return block(topicLoanStep, cancelLoan, offset, length, type, timeoutMs, spins);
}

/**
 * Publishes the loaned message: stamps it, then moves head and wakes the
 * parked subscribers. Returns OK, or -INVALID_ARGUMENT (nothing loaned),
 * -NOT_OWNER, -CORRUPT.
 */
export function topicPublish(offset: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  if (!holdsRole(a + PUB_PID)) return -NOT_OWNER;
  if (load<u32>(a + LOANED) == 0) return -INVALID_ARGUMENT;
  const length = load<u32>(a + LOAN_LENGTH);
  if (length > gMaxMessage) return -CORRUPT;
  const head = load<u64>(a + HEAD);
  const slot = slotAt(a, head);
  store<u32>(slot + LENGTH, length);
  store<u32>(slot + TYPE, load<u32>(a + LOAN_TYPE));
  // SYNC: release; publishes the header and payload to a reader's acquiring
  // load of this stamp (topic/subscriber.ts).
  atomic.store<u64>(slot + STAMP, head + 1);
  atomic.store<u64>(a + HEAD, head + 1);
  // SYNC: seq_cst store of headWord, then load of the sleepers word; pairs
  // with a parking subscriber's add to it, then load of headWord.
  atomic.store<u32>(a + HEAD_WORD, <u32>(head + 1));
  store<u32>(a + LOANED, 0);
  store<u64>(a + PUBLISHED, load<u64>(a + PUBLISHED) + 1);
  if (atomic.load<u32>(a + SUB_SLEEPERS) != 0) hostWake(a + HEAD_WORD, 0x7FFFFFFF);
  return OK;
}

/** Drops the loan (the slot's previous message is gone either way). */
export function topicAbort(offset: u32): void {
  const a = at(offset);
  if (holdsRole(a + PUB_PID)) store<u32>(a + LOANED, 0);
}
