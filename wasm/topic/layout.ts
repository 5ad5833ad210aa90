// Topic: one publisher, up to TOPIC_MAX_SUBSCRIBERS subscribers, each of which
// sees every message in order (fan-out). Messages are written in place into a
// ring of `depth` slots (message seq lives in slot seq & (depth - 1)) and read
// in place; a seqlock stamp per slot tells a reader whether what it read is
// the message it wanted, whole.
//
//  object offset
//  0    ┌ config, written once by topicInit ──────────────────────────────────┐
//       │ maxMessage u32 │ depth u32 │ subscribers u32 │ history u32 │ policy u32│
//  64   ├ publisher line: only the publisher writes ──────────────────────────┤
//       │ pid u32 │ recordPid u32 │ startTicks u64                            │
//       │ head u64       seq of the next message (messages published)        │
//       │ minCache u64   lowest subscriber cursor seen by the last scan       │
//       │ epochSeen u32 │ loaned u32 │ loanLength u32 │ loanType u32          │
//       │ published u64 (diagnostics)                                       │
//  128  ├ headWord u32: low 32 bits of head, the futex subscribers park on ───┤
//  192  ├ subscriberSleepers u32: parked subscribers (own line) ──────────────┤
//  256  ├ publisherSleepers u32 │ epoch u32: bumped on every (de)attach ──────┤
//  320  ├ subscriber records, `subscribers` × 64 bytes, each written only by ─┤
//       │ its subscriber (and by a reaper, by CAS on pid, once it is dead):    │
//       │ 0 pid u32 │ 4 recordPid u32 │ 8 startTicks u64                       │
//       │ 16 cursor u64   next seq not yet released (the publisher's limit)  │
//       │ 24 readEnd u64  next seq to hand out                               │
//       │ 32 missed u64   messages this subscriber never got whole           │
//       │ 40 received u64 │ 48 deadPublisherSeen u32                          │
//       │ 52 tornHeld u32: held messages a lap found torn, for the next release │
//  320 + 64 × subscribers                                                     │
//       ├ slots, depth × slotSize (slotSize = 16 + maxMessage rounded to 64) ─┤
//       │ 0 stamp u64: seq + 1 of the message in the slot, 0 while written    │
//       │ 8 length u32 │ 12 type u32 │ 16 payload                            │
//       └─────────────────────────────────────────────────────────────────────┘
//
// Publish (publisher): stamp = 0, fence, write header and payload in place,
// then stamp = seq + 1 (release), head = seq + 1, headWord = seq + 1, wake
// the parked subscribers if any. A publisher killed while writing leaves
// stamp 0: no reader ever takes that slot's bytes as a message.
//
// Read (subscriber, seq c = readEnd): load the stamp (acquire). c + 1: the
// message is there; the reader uses it in place, and when it is done (copy
// or release) re-reads the stamp after a fence: still c + 1 means it was
// whole. Anything else: if head <= c nothing is published yet (wait on
// headWord); else c was overwritten (lapped): skip to head - depth + 1 and
// add what was skipped to `missed`, so the count is exact.
//
// Slow subscribers, the policy fixed at creation:
//   BLOCK      the publisher never overwrites a message some attached
//              subscriber has not released: it waits (or reports FULL) until
//              the slowest cursor passes head - depth + 1. Dead subscribers
//              are reaped (pid cleared by CAS from the dead pid observed),
//              which releases the back-pressure.
//   OVERWRITE  the publisher never waits; a lagging subscriber is told how
//              many messages it missed, and a message overwritten while it was
//              being read in place fails its release check.
// A late subscriber starts `history` messages back (or at 0).
//
// One publisher at a time holds the role (pid word, taken over by CAS from a
// dead holder); the new one recomputes head from the stamps, so a message
// published before head was stored is not published twice.

import { at, CACHE_LINE } from "../segment/layout";
import { inObject } from "../base/context";

export const TOPIC_MAX_MESSAGE: u32 = 1 << 20;
export const TOPIC_MAX_DEPTH: u32 = 1 << 16;
export const TOPIC_MIN_DEPTH: u32 = 2;
export const TOPIC_MAX_SUBSCRIBERS: u32 = 64;
export const TOPIC_TYPE_MAX: u32 = 0x7FFFFFFF;
export const TOPIC_POLICY_BLOCK: u32 = 0;
export const TOPIC_POLICY_OVERWRITE: u32 = 1;

// @ts-ignore: decorator
@inline export const MAX_MESSAGE: u32 = 0;
// @ts-ignore: decorator
@inline export const DEPTH: u32 = 4;
// @ts-ignore: decorator
@inline export const SUBSCRIBERS: u32 = 8;
// @ts-ignore: decorator
@inline export const HISTORY: u32 = 12;
// @ts-ignore: decorator
@inline export const POLICY: u32 = 16;

// @ts-ignore: decorator
@inline export const PUB_PID: u32 = 64;
// @ts-ignore: decorator
@inline export const PUB_RECORD_PID: u32 = 68;
// @ts-ignore: decorator
@inline export const PUB_START: u32 = 72;
// @ts-ignore: decorator
@inline export const HEAD: u32 = 80;
// @ts-ignore: decorator
@inline export const MIN_CACHE: u32 = 88;
// @ts-ignore: decorator
@inline export const EPOCH_SEEN: u32 = 96;
// @ts-ignore: decorator
@inline export const LOANED: u32 = 100;
// @ts-ignore: decorator
@inline export const LOAN_LENGTH: u32 = 104;
// @ts-ignore: decorator
@inline export const LOAN_TYPE: u32 = 108;
// @ts-ignore: decorator
@inline export const PUBLISHED: u32 = 112;
// @ts-ignore: decorator
@inline export const HEAD_WORD: u32 = 128;
// @ts-ignore: decorator
@inline export const SUB_SLEEPERS: u32 = 192;
// @ts-ignore: decorator
@inline export const PUB_SLEEPERS: u32 = 256;
// @ts-ignore: decorator
@inline export const EPOCH: u32 = 260;
export const TOPIC_RECORDS: u32 = 320;
export const TOPIC_RECORD_SIZE: u32 = 64;
export const TOPIC_SLOT_HEADER: u32 = 16;

// Subscriber record fields.
// @ts-ignore: decorator
@inline export const SUB_PID: u32 = 0;
// @ts-ignore: decorator
@inline export const SUB_RECORD_PID: u32 = 4;
// @ts-ignore: decorator
@inline export const SUB_START: u32 = 8;
// @ts-ignore: decorator
@inline export const CURSOR: u32 = 16;
// @ts-ignore: decorator
@inline export const READ_END: u32 = 24;
// @ts-ignore: decorator
@inline export const MISSED: u32 = 32;
// @ts-ignore: decorator
@inline export const RECEIVED: u32 = 40;
// @ts-ignore: decorator
@inline export const DEAD_SEEN: u32 = 48;
// @ts-ignore: decorator
@inline export const TORN_HELD: u32 = 52;

// Slot fields.
// @ts-ignore: decorator
@inline export const STAMP: u32 = 0;
// @ts-ignore: decorator
@inline export const LENGTH: u32 = 8;
// @ts-ignore: decorator
@inline export const TYPE: u32 = 12;

/** A cursor of a detached record: never the slowest. */
export const CURSOR_NONE: u64 = 0xFFFFFFFFFFFFFFFF;

/**
 * Private results (page 0): a read leaves payload offset, length, type,
 * seq (low, high) and the messages it skipped (low, high), seven u32.
 */
export const topicScratch: usize = memory.data(7 * 4);

/** The geometry of the topic a call addresses, checked by `topicGeometry` (wasm globals: private). */
export let gDepth: u32 = 0;
export let gSubscribers: u32 = 0;
export let gMaxMessage: u32 = 0;
export let gSlotSize: u32 = 0;
export let gPolicy: u32 = 0;
export let gHistory: u32 = 0;

function slotSizeFor(maxMessage: u32): u32 {
  return (TOPIC_SLOT_HEADER + maxMessage + CACHE_LINE - 1) & ~(CACHE_LINE - 1);
}

function totalSize(maxMessage: u32, depth: u32, subscribers: u32): u64 {
  return <u64>TOPIC_RECORDS + <u64>subscribers * TOPIC_RECORD_SIZE +
    <u64>depth * <u64>slotSizeFor(maxMessage);
}

function paramsValid(maxMessage: u32, depth: u32, subscribers: u32, history: u32, policy: u32): bool {
  if (maxMessage == 0 || maxMessage > TOPIC_MAX_MESSAGE) return false;
  if (depth < TOPIC_MIN_DEPTH || depth > TOPIC_MAX_DEPTH || (depth & (depth - 1)) != 0) return false;
  if (subscribers == 0 || subscribers > TOPIC_MAX_SUBSCRIBERS) return false;
  if (history > depth) return false;
  return policy == TOPIC_POLICY_BLOCK || policy == TOPIC_POLICY_OVERWRITE;
}

// Creation parameters: p0 = maxMessage, p1 = depth, p2 = subscribers (bits
// 0-7) | history (bits 8-27) | policy (bit 31).
// @ts-ignore: decorator
@inline function p2Subscribers(p2: u32): u32 { return p2 & 0xFF; }
// @ts-ignore: decorator
@inline function p2History(p2: u32): u32 { return (p2 >>> 8) & 0xFFFFF; }
// @ts-ignore: decorator
@inline function p2Policy(p2: u32): u32 { return p2 >>> 31; }

/** Bytes a topic with these parameters needs, or 0 if they are invalid (or it would pass 1 GiB). */
export function topicSize(maxMessage: u32, depth: u32, p2: u32): u32 {
  const subscribers = p2Subscribers(p2);
  if (!paramsValid(maxMessage, depth, subscribers, p2History(p2), p2Policy(p2))) return 0;
  const size = totalSize(maxMessage, depth, subscribers);
  return size > <u64>(1 << 30) ? 0 : <u32>size;
}

export function topicInit(offset: u32, maxMessage: u32, depth: u32, p2: u32): void {
  const a = at(offset);
  store<u32>(a + MAX_MESSAGE, maxMessage);
  store<u32>(a + DEPTH, depth);
  store<u32>(a + SUBSCRIBERS, p2Subscribers(p2));
  store<u32>(a + HISTORY, p2History(p2));
  store<u32>(a + POLICY, p2Policy(p2));
  // Every record starts detached (zero-filled memory would read as cursor 0).
  for (let i: u32 = 0; i < p2Subscribers(p2); i++) {
    store<u64>(a + TOPIC_RECORDS + i * TOPIC_RECORD_SIZE + CURSOR, CURSOR_NONE);
  }
}

/**
 * Reads and checks the geometry of the topic at `offset` into the g*
 * globals: parameters in range and the whole object inside the extent the
 * call addresses. False means corrupt.
 */
export function topicGeometry(offset: u32): bool {
  const a = at(offset);
  const maxMessage = load<u32>(a + MAX_MESSAGE);
  const depth = load<u32>(a + DEPTH);
  const subscribers = load<u32>(a + SUBSCRIBERS);
  const history = load<u32>(a + HISTORY);
  const policy = load<u32>(a + POLICY);
  if (!paramsValid(maxMessage, depth, subscribers, history, policy)) return false;
  const size = totalSize(maxMessage, depth, subscribers);
  if (size > <u64>0xFFFFFFFF || !inObject(offset, <u32>size)) return false;
  gDepth = depth;
  gSubscribers = subscribers;
  gMaxMessage = maxMessage;
  gSlotSize = slotSizeFor(maxMessage);
  gPolicy = policy;
  gHistory = history;
  return true;
}

/** A structural check of a topic found in a segment being opened. */
export function topicValidate(offset: u32, size: u32): bool {
  return topicGeometry(offset);
}

/** The wasm address of the slot of message `seq` (after topicGeometry). */
// @ts-ignore: decorator
@inline export function slotAt(a: u32, seq: u64): u32 {
  return a + TOPIC_RECORDS + gSubscribers * TOPIC_RECORD_SIZE + (<u32>seq & (gDepth - 1)) * gSlotSize;
}

/** The wasm address of subscriber record `index` (after topicGeometry; index < gSubscribers). */
// @ts-ignore: decorator
@inline export function recordAt(a: u32, index: u32): u32 {
  return a + TOPIC_RECORDS + index * TOPIC_RECORD_SIZE;
}

export { at };
