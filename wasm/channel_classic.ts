// The classic exchange over one shared buffer (layout: channel.ts).
//
//   client                                    server
//   1 lock access (robust mutex)              waits on the request semaphore
//   2 settle: if an earlier exchange is
//     still with the server, wait for its
//     response and discard it
//   3 write the request into the buffer
//   4 state = REQUESTED; post request ──────▶ 5 take a permit; CAS state
//                                               REQUESTED -> SERVING
//                                             6 read the request, write the
//                                               response in place
//   8 take a permit of the response ◀──────── 7 state = RESPONDED; post response
//     semaphore; state is RESPONDED: read
//   9 state = IDLE; unlock access
//
// state (exchange line): IDLE 0 -> REQUESTED 1 (client) -> SERVING 2
// (server, CAS) -> RESPONDED 3 (server) -> IDLE (client, or the next client
// while settling). The client writes the buffer only in IDLE, the server only
// in SERVING; each state store is a release that the other side's load
// acquires, so the buffer changes hands with the state.
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
// writes. A client that finds the server dead resets the state to IDLE and
// returns PEER_DIED. A server that attaches after a dead one repairs what it
// left (classicRecover), so a new server never inherits a wedged exchange.

import { requestWait, selfPid } from "./context";
import { mutexConsistent, mutexHolder, mutexLockStep, mutexTryLock, mutexUnlock } from "./mutex";
import {
  semaphoreCancelWait, semaphorePost, semaphoreTryWait, semaphoreWaitStep,
} from "./semaphore";
import {
  CORRUPT, INVALID_ARGUMENT, MUST_WAIT, NOT_OWNER, NOT_RECOVERABLE, OK, OWNER_DIED, PEER_DIED,
  TOO_LARGE, WOULD_BLOCK,
} from "./status";
import { roleDead, STEP_CHECK_PEER, STEP_PARK, STEP_REGISTERED } from "./waiting";
import {
  ACCESS, at, BODY, CLIENT_PID, FIRST_FIELD, REQUEST_LENGTH, REQUEST_SEM, RESPONSE_LENGTH,
  RESPONSE_SEM, RESPONSE_STATUS, SEQUENCE, SERVED, SERVER_PID, SERVER_RECORD_PID, SERVER_START,
  STATE, channelScratch, CHANNEL_STATUS_SERVER_DIED,
} from "./channel";

// @ts-ignore: decorator
@inline const IDLE: u32 = 0;
// @ts-ignore: decorator
@inline const REQUESTED: u32 = 1;
// @ts-ignore: decorator
@inline const SERVING: u32 = 2;
// @ts-ignore: decorator
@inline const RESPONDED: u32 = 3;

export function serverDead(offset: u32): bool {
  const a = at(offset);
  return roleDead(a + SERVER_PID, a + SERVER_RECORD_PID, a + SERVER_START, false);
}

/** Step 1: lock access; a holder that died is taken over (the settle step repairs). */
export function classicAcquireStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const m = offset + ACCESS;
  let status = mutexTryLock(m);
  while (status == WOULD_BLOCK) {
    if ((flags & (STEP_PARK | STEP_CHECK_PEER)) != 0) {
      status = mutexLockStep(m, (flags & STEP_CHECK_PEER) != 0);
      break;
    }
    const word = atomic.load<i32>(at(m) + FIRST_FIELD);
    if (word != 0) {
      requestWait(at(m) + FIRST_FIELD, word);
      return -MUST_WAIT;
    }
    status = mutexTryLock(m);
  }
  if (status == MUST_WAIT) return -MUST_WAIT;
  if (status == NOT_RECOVERABLE) return -CORRUPT;
  if (status == OWNER_DIED) mutexConsistent(m);
  atomic.store<u32>(at(offset) + CLIENT_PID, selfPid);
  return OK;
}

/** Step 2, holding access: wait out an earlier exchange the server still has. */
export function classicSettleStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  const response = offset + RESPONSE_SEM;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(response);
  while (true) {
    // SYNC: acquire; pairs with the server's release of RESPONDED: it is done with the buffer.
    const state = atomic.load<u32>(a + STATE);
    if (state == IDLE) return <i32>BODY + <i32>offset;
    if (state == RESPONDED) {
      semaphoreTryWait(response);
      atomic.store<u32>(a + STATE, IDLE);
      return <i32>BODY + <i32>offset;
    }
    if (semaphoreTryWait(response) == OK) continue;
    if ((flags & STEP_CHECK_PEER) != 0 && serverDead(offset)) {
      atomic.store<u32>(a + STATE, IDLE);
      return -PEER_DIED;
    }
    if ((flags & STEP_PARK) != 0) {
      if (semaphoreWaitStep(response, false) == OK) continue;
      return -MUST_WAIT;
    }
    requestWait(at(response) + FIRST_FIELD, 0);
    return -MUST_WAIT;
  }
}

/** Steps 3-4: the request (`length` bytes in the buffer) goes to the server. */
export function classicPost(offset: u32, capacity: u32, length: u32): i32 {
  const a = at(offset);
  if (mutexHolder(offset + ACCESS) != <i32>selfPid) return -NOT_OWNER;
  if (length > capacity) return -TOO_LARGE;
  if (atomic.load<u32>(a + STATE) != IDLE) return -INVALID_ARGUMENT;
  store<u32>(a + REQUEST_LENGTH, length);
  store<u32>(a + SEQUENCE, load<u32>(a + SEQUENCE) + 1);
  // SYNC: release; the request bytes travel with REQUESTED to the server's CAS.
  atomic.store<u32>(a + STATE, REQUESTED);
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

/** Step 8: wait for the response; a dead server gives PEER_DIED. */
export function classicAwaitStep(offset: u32, capacity: u32, flags: u32): i32 {
  const a = at(offset);
  const response = offset + RESPONSE_SEM;
  if (mutexHolder(offset + ACCESS) != <i32>selfPid) return -NOT_OWNER;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(response);
  while (true) {
    if (semaphoreTryWait(response) == OK) {
      // A permit whose state is not RESPONDED is stale (from an abandoned exchange).
      if (atomic.load<u32>(a + STATE) == RESPONDED) return deliver(offset, capacity);
      continue;
    }
    const state = atomic.load<u32>(a + STATE);
    if (state == IDLE) return -INVALID_ARGUMENT;
    if ((flags & STEP_CHECK_PEER) != 0 && serverDead(offset)) {
      atomic.store<u32>(a + STATE, IDLE);
      return -PEER_DIED;
    }
    if ((flags & STEP_PARK) != 0) {
      if (semaphoreWaitStep(response, false) != OK) return -MUST_WAIT;
      if (atomic.load<u32>(a + STATE) == RESPONDED) return deliver(offset, capacity);
      continue;
    }
    requestWait(at(response) + FIRST_FIELD, 0);
    return -MUST_WAIT;
  }
}

/** Step 9: the exchange is over; unlock access. Unfinished exchanges are left for settling. */
export function classicEnd(offset: u32): i32 {
  const a = at(offset);
  if (mutexHolder(offset + ACCESS) != <i32>selfPid) return -NOT_OWNER;
  if (atomic.load<u32>(a + STATE) == RESPONDED) atomic.store<u32>(a + STATE, IDLE);
  atomic.store<u32>(a + CLIENT_PID, 0);
  return mutexUnlock(offset + ACCESS) == OK ? OK : -NOT_OWNER;
}

/**
 * A server attaching after another (dead, or gone without finishing): an
 * exchange it left SERVING is answered SERVER_DIED, so its client (or the
 * next one, settling) is not left waiting; a REQUESTED one whose permit it
 * may have taken gets a fresh permit, so the new server serves it.
 */
export function classicRecover(offset: u32): void {
  const a = at(offset);
  const state = atomic.load<u32>(a + STATE);
  if (state == REQUESTED) {
    semaphorePost(offset + REQUEST_SEM, 1);
  } else if (state == SERVING) {
    store<u32>(a + RESPONSE_LENGTH, 0);
    store<u32>(a + RESPONSE_STATUS, CHANNEL_STATUS_SERVER_DIED);
    if (atomic.cmpxchg<u32>(a + STATE, SERVING, RESPONDED) == SERVING) semaphorePost(offset + RESPONSE_SEM, 1);
  }
}

/** Step 5 (server): take the next request. */
export function classicReceiveStep(offset: u32, capacity: u32, flags: u32): i32 {
  const a = at(offset);
  const request = offset + REQUEST_SEM;
  if ((flags & STEP_REGISTERED) != 0) semaphoreCancelWait(request);
  while (true) {
    if (semaphoreTryWait(request) != OK) {
      if ((flags & STEP_PARK) == 0) {
        requestWait(at(request) + FIRST_FIELD, 0);
        return -MUST_WAIT;
      }
      if (semaphoreWaitStep(request, false) != OK) return -MUST_WAIT;
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
}

/** Steps 6-7 (server): the response (`length` bytes, in place) goes back. */
export function classicRespond(offset: u32, capacity: u32, token: u32, length: u32, status: u32): i32 {
  const a = at(offset);
  if (atomic.load<u32>(a + STATE) != SERVING || load<u32>(a + SEQUENCE) != token) {
    return -INVALID_ARGUMENT;
  }
  if (length > capacity) return -TOO_LARGE;
  store<u32>(a + RESPONSE_LENGTH, length);
  store<u32>(a + RESPONSE_STATUS, status);
  store<u64>(a + SERVED, load<u64>(a + SERVED) + 1);
  // SYNC: release; the response bytes travel with RESPONDED to the client.
  atomic.store<u32>(a + STATE, RESPONDED);
  semaphorePost(offset + RESPONSE_SEM, 1);
  return OK;
}
