// The classic exchange over one shared buffer (layout: channel/layout.ts).
//
//   client                                    server
//   1 lock access (robust mutex)              waits on the request semaphore
//   2 settle: if an earlier exchange is
//     still with the server, wait for its
//     response and discard it
//   3 write the request into the buffer
//   4 state = REQUESTED; post request ──────▶ 5 take a permit; CAS state
//                                               REQUESTED -> SERVING
//                                             6 check the exchange is still
//                                               SERVING with its token, then
//                                               write the response in place
//   8 take a permit of the response ◀──────── 7 CAS SERVING -> RESPONDED;
//     semaphore; state is RESPONDED: read       post response
//   9 CAS RESPONDED -> IDLE; unlock access
//
// state (exchange line):
//   IDLE 0         the buffer is the access holder's to write
//   REQUESTED 1    (client) a request waits for the server
//   SERVING 2      (server, CAS from REQUESTED) the buffer is the server's
//   RESPONDED 3    (server, CAS from SERVING) the response is in the buffer
//   SERVER_LOST 4  the server died or detached with the exchange: a server
//                  that attaches after a dead one (classicRecover) or one
//                  that detaches (classicFailPending) moves REQUESTED or
//                  SERVING here by CAS; no response will come
// The client writes the buffer only in IDLE, the server only in SERVING; each
// state change is a release that the other side's load acquires, so the
// buffer changes hands with the state.
//
// Every change of state is a compare-and-swap from the state observed, never
// a plain store after a check. That is what makes recovery safe: a client
// that finds the server dead (its wait slice ran out) resets REQUESTED or
// SERVING to IDLE only if the state is still the one it saw before the
// liveness check. If a new server attached meanwhile and took the request
// (REQUESTED -> SERVING), or recovered it (-> SERVER_LOST), the CAS fails and
// the client looks again. And nobody but a dead server's successor, or the
// server itself, moves the state out of SERVING: a live server that checked
// SERVING and its token before writing the response in place (step 6)
// cannot lose the buffer under it (model/channel_classic.pml).
//
// The access "semaphore" is the robust mutex: a binary semaphore that records
// its holder in its own word, so a client killed while holding access is
// detected (OWNER_DIED) and the next client takes over; a plain semaphore
// would lose the permit with the dead client. Semaphore permits are hints:
// a permit whose state does not match (left by an abandoned or crashed
// exchange) is skipped, so stale permits never wedge anything.
//
// A client that times out while its request is with the server leaves the
// state as it is and unlocks; the next client settles (step 2) before it
// writes. No server attached (the role is free): a request fails at once
// with NO_SERVER, and so does a client waiting when the server detaches.

import { requestWait } from "../base/context";
import { mutexConsistent, mutexHeldBySelf, mutexLockStep, mutexUnlock } from "../mutex/mutex";
import {
  semaphoreCancelWait, semaphoreMaximum, semaphoreValue, semaphorePost, semaphoreTryWait, semaphoreWaitStep,
} from "../semaphore/semaphore";
import {
  CORRUPT, INVALID_ARGUMENT, MUST_WAIT, NO_SERVER, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED,
  PEER_DIED, TOO_LARGE,
} from "../base/status";
import { roleDead, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import {
  ACCESS, at, BODY, FIRST_FIELD, REQUEST_LENGTH, REQUEST_SEM, RESPONSE_LENGTH,
  RESPONSE_SEM, RESPONSE_STATUS, SEQUENCE, SERVED, SERVER_PID, SERVER_RECORD_PID, SERVER_START,
  STATE, channelScratch, PERMITS_MAX,
} from "./layout";

// @ts-ignore: decorator
@inline const IDLE: u32 = 0;
// @ts-ignore: decorator
@inline const REQUESTED: u32 = 1;
// @ts-ignore: decorator
@inline const SERVING: u32 = 2;
// @ts-ignore: decorator
@inline const RESPONDED: u32 = 3;
// @ts-ignore: decorator
@inline const SERVER_LOST: u32 = 4;

export function serverDead(offset: u32): bool {
  const a = at(offset);
  return roleDead(a + SERVER_PID, a + SERVER_RECORD_PID, a + SERVER_START, false);
}

/** True if no server holds the role (never attached, or detached cleanly). */
export function noServer(offset: u32): bool {
  return atomic.load<u32>(at(offset) + SERVER_PID) == 0;
}

/**
 * The exchange observed in `state` has no server to finish it: reset it to
 * IDLE by CAS from that state. False if the state moved meanwhile (a server
 * that attached took or recovered it): look again.
 */
function abandon(a: u32, state: u32): bool {
  return atomic.cmpxchg<u32>(a + STATE, state, IDLE) == state;
}

/**
 * True if a semaphore of the exchange holds more permits than it can: each
 * loop below skips stale permits one by one, so the permits bound the loop,
 * and a value past PERMITS_MAX is a corrupt channel (was: minutes of
 * skipping with a value of 2^31; found by the fuzzer).
 */
function permitsCorrupt(semaphore: u32): bool {
  return semaphoreValue(semaphore) > PERMITS_MAX || semaphoreMaximum(semaphore) != PERMITS_MAX;
}

/** Why an exchange in `state` cannot finish, if it cannot: NO_SERVER, PEER_DIED, or 0. */
function serverGone(offset: u32, state: u32, flags: u32): i32 {
  if (state == SERVER_LOST) return noServer(offset) ? NO_SERVER : PEER_DIED;
  if (noServer(offset)) return NO_SERVER;
  if ((flags & STEP_CHECK_PEER) != 0 && serverDead(offset)) return PEER_DIED;
  return 0;
}

/** Step 1: lock access; a holder that died is taken over (the settle step repairs). */
export function classicAcquireStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const m = offset + ACCESS;
  const status = mutexLockStep(m, 0, 0, flags);
  if (status == -MUST_WAIT) return -MUST_WAIT;
  if (status == -NOT_RECOVERABLE) return -CORRUPT;
  if (status < 0) return status;
  if (status == OWNER_DIED) {
    mutexConsistent(m);
    // The dead client may have died between its CAS to REQUESTED and its post
    // of the request semaphore: without a permit the server would never take
    // that request, and this client would wait in settle for ever. Permits
    // are hints (the server's CAS REQUESTED -> SERVING filters stale ones),
    // so a fresh one is always safe (model/channel.pml, NO_REPOST).
    if (atomic.load<u32>(at(offset) + STATE) == REQUESTED) semaphorePost(offset + REQUEST_SEM, 1);
  }
  return OK;
}

/** Step 2, holding access: wait out an earlier exchange the server still has. */
export function classicSettleStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  const response = offset + RESPONSE_SEM;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(response);
  if (permitsCorrupt(offset + RESPONSE_SEM)) return -CORRUPT;
  // Bounded: a round either returns or consumes a permit (at most PERMITS_MAX, checked).
  for (let round: u32 = 0; round <= PERMITS_MAX; round++) {
    // SYNC: acquire; pairs with the server's release of RESPONDED: it is done with the buffer.
    const state = atomic.load<u32>(a + STATE);
    if (state == IDLE) {
      if (noServer(offset)) return -NO_SERVER;
      return <i32>BODY + <i32>offset;
    }
    if (state == RESPONDED || state == SERVER_LOST) {
      // An earlier client's exchange that ended after it gave up: discard it.
      semaphoreTryWait(response);
      abandon(a, state);
      continue;
    }
    if (state != REQUESTED && state != SERVING) return -CORRUPT;
    if (semaphoreTryWait(response) == OK) continue;
    const gone = serverGone(offset, state, flags);
    if (gone != 0) {
      if (!abandon(a, state)) continue;
      return -gone;
    }
    // A slice ran out on an earlier request still REQUESTED with a live
    // server: its permit may be lost with a client that died before posting
    // it; a fresh one costs nothing (the same reasoning as above).
    if ((flags & STEP_CHECK_PEER) != 0 && state == REQUESTED) semaphorePost(offset + REQUEST_SEM, 1);
    if ((flags & STEP_PARK) != 0) {
      if (semaphoreWaitStep(response, 0, 0, STEP_PARK) == OK) continue;
      return -MUST_WAIT;
    }
    requestWait(at(response) + FIRST_FIELD, 0);
    return -MUST_WAIT;
  }
  return -CORRUPT;
}

/** Steps 3-4: the request (`length` bytes in the buffer) goes to the server. */
export function classicPost(offset: u32, capacity: u32, length: u32): i32 {
  const a = at(offset);
  if (!mutexHeldBySelf(offset + ACCESS)) return -NOT_OWNER;
  if (length > capacity) return -TOO_LARGE;
  // Plain, read again before a refusal: settle read IDLE with an acquire, and
  // only the access holder, this process, moves the state out of IDLE, so a
  // plain read of IDLE is the truth (the CAS below checks it once more).
  if (load<u32>(a + STATE) != IDLE && atomic.load<u32>(a + STATE) != IDLE) return -INVALID_ARGUMENT;
  store<u32>(a + REQUEST_LENGTH, length);
  store<u32>(a + SEQUENCE, load<u32>(a + SEQUENCE) + 1);
  // SYNC: release; the request bytes travel with REQUESTED to the server's CAS.
  if (atomic.cmpxchg<u32>(a + STATE, IDLE, REQUESTED) != IDLE) return -INVALID_ARGUMENT;
  semaphorePost(offset + REQUEST_SEM, 1);
  return OK;
}

function deliver(offset: u32, capacity: u32): i32 {
  const a = at(offset);
  const length = load<u32>(a + RESPONSE_LENGTH);
  if (length > capacity) return -CORRUPT;
  store<u32>(channelScratch, offset + BODY);
  store<u32>(channelScratch + 4, length);
  store<u32>(channelScratch + 8, load<u32>(a + RESPONSE_STATUS));
  return <i32>(offset + BODY);
}

/** Step 8: wait for the response; a dead server gives PEER_DIED, none attached NO_SERVER. */
export function classicAwaitStep(offset: u32, capacity: u32, flags: u32): i32 {
  const a = at(offset);
  const response = offset + RESPONSE_SEM;
  if (!mutexHeldBySelf(offset + ACCESS)) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(response);
  if (permitsCorrupt(offset + RESPONSE_SEM)) return -CORRUPT;
  // Bounded: a round either returns or consumes a permit (at most PERMITS_MAX, checked).
  for (let round: u32 = 0; round <= PERMITS_MAX; round++) {
    if (semaphoreTryWait(response) == OK) {
      // A permit whose state is not RESPONDED is stale (from an abandoned
      // exchange), or says SERVER_LOST: either way, look at the state.
      if (atomic.load<u32>(a + STATE) == RESPONDED) return deliver(offset, capacity);
    }
    // SYNC: acquire; pairs with the server's release CAS of RESPONDED.
    const state = atomic.load<u32>(a + STATE);
    if (state == RESPONDED) return deliver(offset, capacity);
    if (state == IDLE) return -INVALID_ARGUMENT;
    if (state != REQUESTED && state != SERVING && state != SERVER_LOST) return -CORRUPT;
    const gone = serverGone(offset, state, flags);
    if (gone != 0) {
      if (!abandon(a, state)) continue;
      return -gone;
    }
    if ((flags & STEP_PARK) != 0) {
      if (semaphoreWaitStep(response, 0, 0, STEP_PARK) != OK) return -MUST_WAIT;
      continue;
    }
    requestWait(at(response) + FIRST_FIELD, 0);
    return -MUST_WAIT;
  }
  return -CORRUPT;
}

/** Step 9: the exchange is over; unlock access. Unfinished exchanges are left for settling. */
export function classicEnd(offset: u32): i32 {
  const a = at(offset);
  if (!mutexHeldBySelf(offset + ACCESS)) return -NOT_OWNER;
  abandon(a, RESPONDED);
  return mutexUnlock(offset + ACCESS) == OK ? OK : -NOT_OWNER;
}

/**
 * The server that held the exchange is gone (a server attaching after a dead
 * one, or this server detaching): an exchange left REQUESTED or SERVING
 * becomes SERVER_LOST by CAS from the state observed, with a response permit
 * so that a parked client looks. A client that reset it first wins the CAS.
 */
export function classicFailPending(offset: u32): void {
  const a = at(offset);
  const state = atomic.load<u32>(a + STATE);
  if (state != REQUESTED && state != SERVING) return;
  if (atomic.cmpxchg<u32>(a + STATE, state, SERVER_LOST) == state) semaphorePost(offset + RESPONSE_SEM, 1);
}

/**
 * A server attaching after another (dead, or gone without finishing): the
 * exchange it left is SERVER_LOST (its client gets PEER_DIED, or the next
 * one discards it while settling), never answered from a half-done buffer.
 */
export function classicRecover(offset: u32): void {
  classicFailPending(offset);
}

/** Step 5 (server): take the next request. */
export function classicReceiveStep(offset: u32, capacity: u32, flags: u32): i32 {
  const a = at(offset);
  const request = offset + REQUEST_SEM;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(request);
  if (permitsCorrupt(offset + REQUEST_SEM)) return -CORRUPT;
  // Bounded: a round either returns or consumes a permit (at most PERMITS_MAX, checked).
  for (let round: u32 = 0; round <= PERMITS_MAX; round++) {
    if (semaphoreTryWait(request) != OK) {
      if ((flags & STEP_PARK) == 0) {
        requestWait(at(request) + FIRST_FIELD, 0);
        return -MUST_WAIT;
      }
      if (semaphoreWaitStep(request, 0, 0, STEP_PARK) != OK) return -MUST_WAIT;
    }
    // SYNC: acquire; pairs with the client's release of REQUESTED.
    if (atomic.cmpxchg<u32>(a + STATE, REQUESTED, SERVING) != REQUESTED) continue;
    const length = load<u32>(a + REQUEST_LENGTH);
    if (length > capacity) return -CORRUPT;
    store<u32>(channelScratch, offset + BODY);
    store<u32>(channelScratch + 4, length);
    store<u32>(channelScratch + 8, offset + BODY);
    store<u32>(channelScratch + 12, load<u32>(a + SEQUENCE));
    return <i32>(offset + BODY);
  }
  return -CORRUPT;
}

/**
 * Step 6 (server), before writing the response in place: the buffer offset
 * if the exchange is still SERVING with `token`, else -INVALID_ARGUMENT.
 */
export function classicResponseBuffer(offset: u32, token: u32): i32 {
  const a = at(offset);
  // SYNC: acquire; only this server or a successor of its (after its death)
  // moves the state out of SERVING, so while it reads SERVING the buffer stays its own.
  if (atomic.load<u32>(a + STATE) != SERVING || load<u32>(a + SEQUENCE) != token) return -INVALID_ARGUMENT;
  return <i32>(offset + BODY);
}

/** Step 7 (server): the response (`length` bytes, in place) goes back. */
export function classicRespond(offset: u32, capacity: u32, token: u32, length: u32, status: u32): i32 {
  const a = at(offset);
  if (classicResponseBuffer(offset, token) < 0) return -INVALID_ARGUMENT;
  if (length > capacity) return -TOO_LARGE;
  store<u32>(a + RESPONSE_LENGTH, length);
  store<u32>(a + RESPONSE_STATUS, status);
  store<u64>(a + SERVED, load<u64>(a + SERVED) + 1);
  // SYNC: release; the response bytes travel with RESPONDED to the client.
  if (atomic.cmpxchg<u32>(a + STATE, SERVING, RESPONDED) != SERVING) return -INVALID_ARGUMENT;
  semaphorePost(offset + RESPONSE_SEM, 1);
  return OK;
}
