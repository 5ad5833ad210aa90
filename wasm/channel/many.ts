// Many-client mode of the channel (layout: channel/layout.ts): requests travel
// through an MPMC queue (queue/layout.ts) to the server; each response goes to the
// requesting client's own slot, matched by a correlation id.
//
//  client slot: see many_layout.ts
//  request in the queue: slot index u32 │ cid u32 │ request bytes
//
// Phases of a slot's word: IDLE 0 -> WAITING 1 (client, before it commits
// the request to the queue) -> TAKEN 2 (server, CAS on taking the request)
// -> DONE 3 (server, after writing the response; release) -> IDLE (client).
// The server writes the response buffer only between its CAS to TAKEN and
// its store of DONE, and only if the CAS matched the request's cid, so a
// request abandoned by a client (which CASes WAITING back to IDLE) or left
// behind by a dead one is dropped, never answered into a reused slot. A
// client that finds its slot TAKEN (an abandoned request the server is
// answering) waits for DONE before it sends again.

import { hostWake } from "../base/host";
import { requestWait } from "../base/context";
import { queueScratch } from "../queue/layout";
import { queueAbort, queueCommit, queueRelease, readingSlot, writingSlot } from "../queue/operations";
import { queueCancelWait, queueClaimStep, queueReadStep } from "../queue/wait";
import {
  CORRUPT, FULL, INVALID_ARGUMENT, MUST_WAIT, NO_SERVER, NOT_OWNER, OK, PEER_DIED, TOO_LARGE,
} from "../base/status";
import {
  claimRole, holdsRole, releaseRole, ROLE_BUSY, ROLE_TAKEN_OVER, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED,
} from "../base/waiting";
import {
  at, CHANNEL_REQUEST_HEADER, channelScratch, CLIENT_SLOT_HEADER, clientSlotOf, queueOf, SERVED,
} from "./layout";
import { noServer, serverDead } from "./classic";
import {
  DONE, IDLE, PHASE, PID, RECORD_PID, RESPONSE_LENGTH, RESPONSE_STATUS, SLEEPING, START, TAKEN, WAITING,
  WORD,
} from "./many_layout";

/** CAS rounds on a slot word before a step lets its caller wait (a bound against a peer flipping the word). */
// @ts-ignore: decorator
@inline const WORD_ROUNDS: i32 = 64;

/** Takes a free client slot (or one whose owner died): its index, or -FULL. */
export function manyClientAttach(offset: u32, capacity: u32, clients: u32): i32 {
  for (let i: u32 = 0; i < clients; i++) {
    const s = at(clientSlotOf(offset, capacity, clients, i));
    const taken = claimRole(s + PID, s + RECORD_PID, s + START);
    if (taken == ROLE_BUSY) continue;
    if (taken == ROLE_TAKEN_OVER) atomic.store<u32>(s + SLEEPING, 0);
    return <i32>i;
  }
  return -FULL;
}

export function manyClientDetach(offset: u32, capacity: u32, clients: u32, index: u32): void {
  if (index >= clients) return;
  const s = at(clientSlotOf(offset, capacity, clients, index));
  releaseRole(s + PID, s + RECORD_PID);
}

/** The address of client slot `index` if this process owns it, else 0. */
function ownSlot(offset: u32, capacity: u32, clients: u32, index: u32): u32 {
  if (index >= clients) return 0;
  const s = at(clientSlotOf(offset, capacity, clients, index));
  return holdsRole(s + PID) ? s : 0;
}

/** Parks on the slot word (or names it to spin on). */
function waitOnWord(s: u32, word: u32, flags: u32): i32 {
  if ((flags & STEP_PARK) != 0) {
    atomic.store<u32>(s + SLEEPING, 1);
    // SYNC: seq_cst store of sleeping, then load of word, against the server's
    // store of DONE, then load of sleeping: one of the two sees the other.
    if (atomic.load<u32>(s + WORD) != word) {
      atomic.store<u32>(s + SLEEPING, 0);
      return OK;
    }
  }
  requestWait(s + WORD, <i32>word);
  return -MUST_WAIT;
}

/** Before sending: cancel a request still queued, wait out one the server is answering. */
export function manySettleStep(offset: u32, capacity: u32, clients: u32, index: u32, flags: u32): i32 {
  const s = ownSlot(offset, capacity, clients, index);
  if (s == 0) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) atomic.store<u32>(s + SLEEPING, 0);
  // Bounded: a round continues only after a failed CAS (another party moved the word).
  for (let round = 0; round < WORD_ROUNDS; round++) {
    const word = atomic.load<u32>(s + WORD);
    const phase = word & PHASE;
    if (phase == IDLE || phase == DONE) return OK;
    if (phase == WAITING) {
      if (atomic.cmpxchg<u32>(s + WORD, word, word & ~PHASE) == word) return OK;
      continue;
    }
    const gone = withdrawIfServerGone(offset, s, word, flags);
    if (gone < 0) return gone;
    if (gone == LOOK_AGAIN) continue;
    if (waitOnWord(s, word, flags) == OK) continue;
    return -MUST_WAIT;
  }
  requestWait(s + WORD, <i32>atomic.load<u32>(s + WORD));
  return -MUST_WAIT;
}

// @ts-ignore: decorator
@inline const LOOK_AGAIN: i32 = 1;

/**
 * With no server (or, checking, a dead one), withdraws the request the slot
 * word `word` shows, by CAS from that word: -NO_SERVER / -PEER_DIED once
 * withdrawn, LOOK_AGAIN if the word moved meanwhile (a server took the
 * request, WAITING -> TAKEN, or answered it), 0 while the server is there.
 */
function withdrawIfServerGone(offset: u32, s: u32, word: u32, flags: u32): i32 {
  const gone = serverGone(offset, flags);
  if (gone == 0) return 0;
  if (atomic.cmpxchg<u32>(s + WORD, word, word & ~PHASE) != word) return LOOK_AGAIN;
  return -gone;
}

/** NO_SERVER if no server holds the role, PEER_DIED if (checking) its process is gone, else 0. */
function serverGone(offset: u32, flags: u32): i32 {
  if (noServer(offset)) return NO_SERVER;
  if ((flags & STEP_CHECK_PEER) != 0 && serverDead(offset)) return PEER_DIED;
  return 0;
}

/** Claims a request-queue slot; returns where the request goes. */
export function manyClaimStep(offset: u32, flags: u32): i32 {
  if (noServer(offset)) return -NO_SERVER;
  const queue = queueOf(offset);
  const r = queueClaimStep(queue, 0, 0, flags);
  if (r >= 0) return r + <i32>CHANNEL_REQUEST_HEADER;
  if (r == -MUST_WAIT && (flags & STEP_CHECK_PEER) != 0 && serverDead(offset)) {
    if ((flags & STEP_PARK) != 0) queueCancelWait(queue, 1);
    return -PEER_DIED;
  }
  return r;
}

/** Sends the request (`length` bytes at `request`, where manyClaimStep said). */
export function manyPost(
  offset: u32, capacity: u32, clients: u32, index: u32, request: u32, length: u32,
): i32 {
  const s = ownSlot(offset, capacity, clients, index);
  if (s == 0) return -NOT_OWNER;
  if (length > capacity) return -TOO_LARGE;
  if (request < CHANNEL_REQUEST_HEADER || !writingSlot(queueOf(offset), request - CHANNEL_REQUEST_HEADER)) {
    return -INVALID_ARGUMENT;
  }
  const word = atomic.load<u32>(s + WORD);
  if ((word & PHASE) != IDLE && (word & PHASE) != DONE) return -INVALID_ARGUMENT;
  const cid = ((word >> 2) + 1) & 0x3FFFFFFF;
  const header = at(request - CHANNEL_REQUEST_HEADER);
  store<u32>(header, index);
  store<u32>(header + 4, cid);
  atomic.store<u32>(s + WORD, (cid << 2) | WAITING);
  // SYNC: the queue's release publishes the header and WAITING before the server can take it.
  const status = queueCommit(queueOf(offset), request - CHANNEL_REQUEST_HEADER, length + CHANNEL_REQUEST_HEADER, 0);
  if (status != OK) atomic.store<u32>(s + WORD, cid << 2);
  return status;
}

/** Waits for DONE of the request sent last. */
export function manyAwaitStep(offset: u32, capacity: u32, clients: u32, index: u32, flags: u32): i32 {
  const s = ownSlot(offset, capacity, clients, index);
  if (s == 0) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) atomic.store<u32>(s + SLEEPING, 0);
  // Bounded: a round continues only after a failed CAS (another party moved the word).
  for (let round = 0; round < WORD_ROUNDS; round++) {
    // SYNC: acquire; pairs with the server's release of DONE.
    const word = atomic.load<u32>(s + WORD);
    const phase = word & PHASE;
    if (phase == DONE) {
      const length = load<u32>(s + RESPONSE_LENGTH);
      if (length > capacity) return -CORRUPT;
      const response = s + CLIENT_SLOT_HEADER - at(0);
      store<u32>(channelScratch, response);
      store<u32>(channelScratch + 4, length);
      store<u32>(channelScratch + 8, load<u32>(s + RESPONSE_STATUS));
      return <i32>response;
    }
    if (phase == IDLE) return -INVALID_ARGUMENT;
    const gone = withdrawIfServerGone(offset, s, word, flags);
    if (gone < 0) return gone;
    if (gone == LOOK_AGAIN) continue;
    if (waitOnWord(s, word, flags) == OK) continue;
    return -MUST_WAIT;
  }
  requestWait(s + WORD, <i32>atomic.load<u32>(s + WORD));
  return -MUST_WAIT;
}

export function manyAwaitCancel(offset: u32, capacity: u32, clients: u32, index: u32): void {
  const s = ownSlot(offset, capacity, clients, index);
  if (s != 0) atomic.store<u32>(s + SLEEPING, 0);
}

/** Ends an exchange: a request claimed but never sent is aborted; DONE goes back to IDLE. */
export function manyEnd(offset: u32, capacity: u32, clients: u32, index: u32, request: u32): i32 {
  const s = ownSlot(offset, capacity, clients, index);
  if (s == 0) return -NOT_OWNER;
  if (request >= CHANNEL_REQUEST_HEADER) queueAbort(queueOf(offset), request - CHANNEL_REQUEST_HEADER);
  const word = atomic.load<u32>(s + WORD);
  if ((word & PHASE) == DONE) atomic.cmpxchg<u32>(s + WORD, word, word & ~PHASE);
  return OK;
}

/** Server: takes the next live request; stale ones (cancelled, or from a dead client's slot reuse) are dropped. */
export function manyReceiveStep(offset: u32, capacity: u32, clients: u32, flags: u32): i32 {
  const queue = queueOf(offset);
  let f = flags;
  while (true) {
    const payload = queueReadStep(queue, 0, 0, f);
    f &= ~STEP_REGISTERED;
    if (payload < 0) return payload;
    const length = load<u32>(queueScratch + 4);
    const index = load<u32>(at(payload));
    const cid = load<u32>(at(payload) + 4);
    if (length < CHANNEL_REQUEST_HEADER || index >= clients) {
      queueRelease(queue, payload);
      continue;
    }
    const s = at(clientSlotOf(offset, capacity, clients, index));
    const waiting = (cid << 2) | WAITING;
    if (atomic.cmpxchg<u32>(s + WORD, waiting, (cid << 2) | TAKEN) != waiting) {
      queueRelease(queue, payload);
      continue;
    }
    store<u32>(channelScratch, payload + CHANNEL_REQUEST_HEADER);
    store<u32>(channelScratch + 4, length - CHANNEL_REQUEST_HEADER);
    store<u32>(channelScratch + 8, s + CLIENT_SLOT_HEADER - at(0));
    store<u32>(channelScratch + 12, payload);
    return payload + <i32>CHANNEL_REQUEST_HEADER;
  }
}

/**
 * Server, before writing the response into the client's slot: the response
 * offset if the request `token` (a queue payload this server holds) is still
 * TAKEN by its client's slot with its cid, else -INVALID_ARGUMENT.
 */
export function manyResponseBuffer(offset: u32, capacity: u32, clients: u32, token: u32): i32 {
  if (!readingSlot(queueOf(offset), token)) return -INVALID_ARGUMENT;
  const index = load<u32>(at(token));
  const cid = load<u32>(at(token) + 4);
  if (index >= clients) return -INVALID_ARGUMENT;
  const s = at(clientSlotOf(offset, capacity, clients, index));
  if (atomic.load<u32>(s + WORD) != ((cid << 2) | TAKEN)) return -INVALID_ARGUMENT;
  return <i32>(s + CLIENT_SLOT_HEADER - at(0));
}

/** Server: the response (`length` bytes, already in the client's slot) is done. */
export function manyRespond(
  offset: u32, capacity: u32, clients: u32, token: u32, length: u32, status: u32,
): i32 {
  const queue = queueOf(offset);
  if (!readingSlot(queue, token)) return -INVALID_ARGUMENT;
  if (length > capacity) return -TOO_LARGE;
  const index = load<u32>(at(token));
  const cid = load<u32>(at(token) + 4);
  if (index < clients) {
    const s = at(clientSlotOf(offset, capacity, clients, index));
    const taken = (cid << 2) | TAKEN;
    if (atomic.load<u32>(s + WORD) == taken) {
      store<u32>(s + RESPONSE_LENGTH, length);
      store<u32>(s + RESPONSE_STATUS, status);
      // SYNC: release; the response bytes travel with DONE to the client.
      if (atomic.cmpxchg<u32>(s + WORD, taken, (cid << 2) | DONE) == taken &&
          atomic.load<u32>(s + SLEEPING) != 0) {
        hostWake(s + WORD, 1);
      }
    }
  }
  const a = at(offset);
  store<u64>(a + SERVED, load<u64>(a + SERVED) + 1);
  return queueRelease(queue, token);
}
