// The subscriber side of a topic (layout and protocol: topic/layout.ts):
// attach to a free record, hand out messages in place in order, release them
// with a check that each was still whole; plus the topic's inspection numbers.

import { SEGMENT_BASE } from "../segment/layout";
import { hostWake } from "../base/host";
import { fullFence, recordedHolderAlive, requestWait, selfPid, writeHolderRecord } from "../base/context";
import { CORRUPT, EMPTY, FULL, MUST_WAIT, NOT_OWNER, PEER_DIED } from "../base/status";
import { block, holdsRole, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import {
  at, CURSOR, CURSOR_NONE, DEAD_SEEN, EPOCH, gDepth, gHistory, gMaxMessage, gPolicy,
  gSubscribers, HEAD, HEAD_WORD, LENGTH, MISSED, PUB_PID, PUB_RECORD_PID, PUB_SLEEPERS, PUB_START,
  PUBLISHED, READ_END, RECEIVED, recordAt, slotAt, STAMP, SUB_PID, SUB_RECORD_PID, SUB_SLEEPERS,
  SUB_START, topicGeometry, topicScratch, TOPIC_SLOT_HEADER, TORN_HELD, TYPE,
} from "./layout";

// @ts-ignore: decorator
@inline const LAP_ROUNDS: i32 = 16;

/**
 * Attaches this process as a subscriber in a free record (or one whose
 * holder died, taken by CAS from the dead pid observed). It starts `history`
 * messages back. Returns the record index (>= 0), or -FULL (every record
 * held by a live subscriber), -CORRUPT.
 */
export function topicSubscriberAttach(offset: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  for (let i: u32 = 0; i < gSubscribers; i++) {
    const r = recordAt(a, i);
    const pid = atomic.load<u32>(r + SUB_PID);
    if (pid == selfPid) continue; // another subscriber of this process
    if (pid != 0 && recordedHolderAlive(r + SUB_RECORD_PID, r + SUB_START, pid)) continue;
    if (atomic.cmpxchg<u32>(r + SUB_PID, pid, selfPid) != pid) continue;
    // Until the real cursor is stored the publisher may still see the old
    // holder's, which is at most head: it can only wait longer, never
    // overwrite what we are about to read.
    atomic.store<u32>(r + SUB_RECORD_PID, 0);
    writeHolderRecord(r + SUB_RECORD_PID, r + SUB_START);
    const head = atomic.load<u64>(a + HEAD);
    const start = head > <u64>gHistory ? head - gHistory : 0;
    store<u64>(r + READ_END, start);
    store<u64>(r + MISSED, 0);
    store<u64>(r + RECEIVED, 0);
    store<u32>(r + DEAD_SEEN, 0);
    store<u32>(r + TORN_HELD, 0);
    atomic.store<u64>(r + CURSOR, start);
    // SYNC: the cursor is stored before the epoch moves; a publisher that
    // sees the new epoch rescans and sees the cursor.
    atomic.add<u32>(a + EPOCH, 1);
    // A publisher may be parked on this record's cursor (its dead holder was
    // the slowest): the cursor moved, so it must look again now.
    wakePublisher(a, r);
    return <i32>i;
  }
  return -FULL;
}

/** The record of subscriber `index` if this process holds it, else 0. */
function ownRecord(a: u32, index: u32): u32 {
  if (index >= gSubscribers) return 0;
  const r = recordAt(a, index);
  return holdsRole(r + SUB_PID) ? r : 0;
}

/** Wakes a publisher parked on this subscriber's cursor, if any publisher is parked. */
// @ts-ignore: decorator
@inline function wakePublisher(a: u32, r: u32): void {
  // SYNC: seq_cst store of the cursor before this load; pairs with the
  // publisher's add to its sleepers word before its last look at the cursors.
  if (atomic.load<u32>(a + PUB_SLEEPERS) != 0) hostWake(r + CURSOR, 1);
}

/** Detaches subscriber `index` (releasing the back-pressure it held). */
export function topicSubscriberDetach(offset: u32, index: u32): void {
  if (!topicGeometry(offset)) return;
  const a = at(offset);
  const r = ownRecord(a, index);
  if (r == 0) return;
  atomic.store<u64>(r + CURSOR, CURSOR_NONE);
  atomic.store<u32>(r + SUB_RECORD_PID, 0);
  atomic.cmpxchg<u32>(r + SUB_PID, selfPid, 0);
  atomic.add<u32>(a + EPOCH, 1);
  wakePublisher(a, r);
}

/**
 * Hands out the next message in place: its payload offset, with (offset,
 * length, type, seq, skipped) in topicScratch; or -EMPTY with the word to
 * wait on requested.
 */
function readOne(a: u32, r: u32): i32 {
  let c = load<u64>(r + READ_END);
  let skipped: u64 = 0;
  for (let round = 0; round < LAP_ROUNDS; round++) {
    const slot = slotAt(a, c);
    // SYNC: acquire; pairs with the release of the stamp in topicPublish.
    if (atomic.load<u64>(slot + STAMP) == c + 1) {
      const length = load<u32>(slot + LENGTH);
      if (length > gMaxMessage) return -CORRUPT;
      store<u64>(r + READ_END, c + 1);
      const payload = slot + TOPIC_SLOT_HEADER - SEGMENT_BASE;
      store<u32>(topicScratch, payload);
      store<u32>(topicScratch + 4, length);
      store<u32>(topicScratch + 8, load<u32>(slot + TYPE));
      store<u64>(topicScratch + 12, c);
      store<u64>(topicScratch + 20, skipped);
      return <i32>payload;
    }
    const word = atomic.load<u32>(a + HEAD_WORD);
    const head = atomic.load<u64>(a + HEAD);
    if (head <= c) {
      requestWait(a + HEAD_WORD, <i32>word);
      return -EMPTY;
    }
    // c was published (head passed it); the stamp may just have been stored.
    if (atomic.load<u64>(slot + STAMP) == c + 1) continue;
    // Lapped: c was overwritten. Everything below head - depth + 1 is gone
    // or going; count exactly what we skip.
    let next = head >= <u64>gDepth ? head - gDepth + 1 : 0;
    if (next <= c) next = c + 1;
    skipped += next - c;
    // Messages still held in place, [cursor, c), are older than c, so their
    // slots were all reused before c's was: they are torn. Count them now
    // (release reports them) and move the cursor, so that release walks only
    // what it handed out (without this the skipped ones were counted twice:
    // model/topic.pml).
    const cursor = load<u64>(r + CURSOR);
    const held = c > cursor ? c - cursor : 0;
    if (held != 0) store<u32>(r + TORN_HELD, load<u32>(r + TORN_HELD) + <u32>held);
    store<u64>(r + MISSED, load<u64>(r + MISSED) + (next - c) + held);
    atomic.store<u64>(r + CURSOR, next);
    wakePublisher(a, r);
    c = next;
    store<u64>(r + READ_END, c);
  }
  // The publisher laps us faster than we can catch up: look again at once
  // (a wait on a value the word no longer holds returns immediately).
  requestWait(a + HEAD_WORD, <i32>(atomic.load<u32>(a + HEAD_WORD) ^ 1));
  return -EMPTY;
}

/**
 * Hands out the next message of subscriber `index` in place (try: never
 * waits). Returns its payload's segment offset, with (offset, length, type,
 * seq u64, skipped u64) in topicScratch, or -EMPTY, -NOT_OWNER, -CORRUPT.
 * The bytes are the message's until topicRelease says otherwise.
 */
export function topicRead(offset: u32, index: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  const r = ownRecord(a, index);
  if (r == 0) return -NOT_OWNER;
  return readOne(a, r);
}

/** One step of a blocking read (see waiting.ts); arg0 = subscriber index. */
export function topicReadStep(offset: u32, index: u32, unused: u32, flags: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  const r = ownRecord(a, index);
  if (r == 0) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + SUB_SLEEPERS, 1);
  let result = readOne(a, r);
  if (result != -EMPTY) return result;
  if ((flags & STEP_CHECK_PEER) != 0) {
    // A dead publisher is reported once to each subscriber; the next one carries on.
    const pid = atomic.load<u32>(a + PUB_PID);
    if (pid != 0 && pid != load<u32>(r + DEAD_SEEN) &&
        !recordedHolderAlive(a + PUB_RECORD_PID, a + PUB_START, pid)) {
      store<u32>(r + DEAD_SEEN, pid);
      return -PEER_DIED;
    }
  }
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + SUB_SLEEPERS, 1);
    result = readOne(a, r);
    if (result != -EMPTY) {
      atomic.sub<u32>(a + SUB_SLEEPERS, 1);
      return result;
    }
  }
  return -MUST_WAIT;
}

function cancelRead(offset: u32, unused: u32): void {
  atomic.sub<u32>(at(offset) + SUB_SLEEPERS, 1);
}

/** Withdraws the sleeper a MUST_WAIT step registered (publisher: role 0, subscriber: 1). */
export function topicCancelWait(offset: u32, role: u32): void {
  atomic.sub<u32>(at(offset) + (role == 0 ? PUB_SLEEPERS : SUB_SLEEPERS), 1);
}

/**
 * Reads, waiting at most `timeoutMs` (negative: no limit) under the wait
 * policy `spins`. Results as topicRead, plus -TIMED_OUT and -PEER_DIED (the
 * publisher died while nothing was there; reported once).
 */
export function topicReadWait(offset: u32, index: u32, timeoutMs: f64, spins: i32): i32 {
  return block(topicReadStep, cancelRead, offset, index, 0, timeoutMs, spins);
}

/**
 * Releases every message handed out to subscriber `index` since its last
 * release, after checking that each was still whole (its stamp unchanged):
 * returns how many were overwritten while held (0 under the BLOCK policy,
 * which never overwrites an unreleased message; they count as missed), or
 * -NOT_OWNER, -CORRUPT.
 */
export function topicRelease(offset: u32, index: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  const r = ownRecord(a, index);
  if (r == 0) return -NOT_OWNER;
  const end = load<u64>(r + READ_END);
  let seq = load<u64>(r + CURSOR);
  if (seq > end) seq = end;
  // SYNC: the fence orders every read of the payloads before the stamps are
  // read again (seqlock), so a copy made before this call is checked whole.
  fullFence();
  // Held messages a lap already found torn (readOne) count first.
  let torn: u32 = load<u32>(r + TORN_HELD);
  store<u32>(r + TORN_HELD, 0);
  const tornBefore = torn;
  // Only the last `depth` can still be in their slots; older ones are torn.
  if (end - seq > <u64>gDepth) {
    torn += <u32>(end - seq - gDepth);
    seq = end - gDepth;
  }
  let received: u64 = 0;
  while (seq < end) {
    if (atomic.load<u64>(slotAt(a, seq) + STAMP) != seq + 1) torn++;
    else received++;
    seq++;
  }
  if (torn != tornBefore) store<u64>(r + MISSED, load<u64>(r + MISSED) + (torn - tornBefore));
  store<u64>(r + RECEIVED, load<u64>(r + RECEIVED) + received);
  // SYNC: release; pairs with the publisher's acquiring load of the cursor.
  atomic.store<u64>(r + CURSOR, end);
  wakePublisher(a, r);
  return <i32>torn;
}

// What topicInfo reports.
export const TOPIC_INFO_MAX_MESSAGE: u32 = 0;
export const TOPIC_INFO_DEPTH: u32 = 1;
export const TOPIC_INFO_SUBSCRIBERS: u32 = 2;
export const TOPIC_INFO_HISTORY: u32 = 3;
export const TOPIC_INFO_POLICY: u32 = 4;
export const TOPIC_INFO_PUBLISHER: u32 = 5;
export const TOPIC_INFO_HEAD: u32 = 6;
export const TOPIC_INFO_SUBSCRIBER_PID: u32 = 7;
export const TOPIC_INFO_SUBSCRIBER_CURSOR: u32 = 8;
export const TOPIC_INFO_SUBSCRIBER_MISSED: u32 = 9;
export const TOPIC_INFO_SUBSCRIBER_RECEIVED: u32 = 10;
export const TOPIC_INFO_PUBLISHED: u32 = 11;

/**
 * One inspection number (TOPIC_INFO_*; `index` names the subscriber record
 * for the per-subscriber ones), as f64 so 64-bit counters pass whole up to
 * 2^53; -1 for an unknown question or index, -2 for a corrupt topic.
 */
export function topicInfo(offset: u32, what: u32, index: u32): f64 {
  if (!topicGeometry(offset)) return -2;
  const a = at(offset);
  if (what == TOPIC_INFO_MAX_MESSAGE) return gMaxMessage;
  if (what == TOPIC_INFO_DEPTH) return gDepth;
  if (what == TOPIC_INFO_SUBSCRIBERS) return gSubscribers;
  if (what == TOPIC_INFO_HISTORY) return gHistory;
  if (what == TOPIC_INFO_POLICY) return gPolicy;
  if (what == TOPIC_INFO_PUBLISHER) return atomic.load<u32>(a + PUB_PID);
  if (what == TOPIC_INFO_HEAD) return <f64>atomic.load<u64>(a + HEAD);
  if (what == TOPIC_INFO_PUBLISHED) return <f64>load<u64>(a + PUBLISHED);
  if (index >= gSubscribers) return -1;
  const r = recordAt(a, index);
  if (what == TOPIC_INFO_SUBSCRIBER_PID) return atomic.load<u32>(r + SUB_PID);
  if (what == TOPIC_INFO_SUBSCRIBER_CURSOR) {
    // A free record's cursor is whatever its last holder left: not a cursor.
    const cursor = atomic.load<u64>(r + CURSOR);
    return cursor == CURSOR_NONE || atomic.load<u32>(r + SUB_PID) == 0 ? -1 : <f64>cursor;
  }
  if (what == TOPIC_INFO_SUBSCRIBER_MISSED) return <f64>load<u64>(r + MISSED);
  if (what == TOPIC_INFO_SUBSCRIBER_RECEIVED) return <f64>load<u64>(r + RECEIVED);
  return -1;
}

/**
 * The wait-set hook: the wasm address of the futex word that changes on
 * every publish (subscribers park on it), or 0 for a corrupt topic.
 */
export function topicChangeWord(offset: u32): u32 {
  if (!topicGeometry(offset)) return 0;
  return at(offset) + HEAD_WORD;
}


/**
 * Readiness of subscriber `index` without taking anything (the wait set's
 * step, ts/wait_set.ts): 1 if topicRead would hand out a message (or report
 * a lap), else -MUST_WAIT with headWord requested. STEP_PARK registers as a
 * parked subscriber, withdrawn by topicCancelWait(subscriber).
 */
export function topicPollStep(offset: u32, index: u32, unused: u32, flags: u32): i32 {
  if (!topicGeometry(offset)) return -CORRUPT;
  const a = at(offset);
  const r = ownRecord(a, index);
  if (r == 0) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + SUB_SLEEPERS, 1);
  if (pollOnce(a, r)) return 1;
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + SUB_SLEEPERS, 1);
    if (pollOnce(a, r)) {
      atomic.sub<u32>(a + SUB_SLEEPERS, 1);
      return 1;
    }
  }
  return -MUST_WAIT;
}

/** True if the message at readEnd is there or lapped; else headWord is requested. */
function pollOnce(a: u32, r: u32): bool {
  const c = load<u64>(r + READ_END);
  const word = atomic.load<u32>(a + HEAD_WORD);
  if (atomic.load<u64>(slotAt(a, c) + STAMP) == c + 1) return true;
  // SYNC: seq_cst loads after any registration; pairs with the publisher's
  // store of headWord, then load of the sleepers word.
  if (atomic.load<u64>(a + HEAD) > c) return true;
  requestWait(a + HEAD_WORD, <i32>word);
  return false;
}
