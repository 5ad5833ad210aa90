// The channel's exports: one set of calls for both modes (classic and
// many-client, see channel/layout.ts), dispatched on the stored `clients`.
//
// A client exchange is: channelClientAttach once; then per request
// channelBegin (or its two steps, Acquire then Prepare) -> write the request
// at the returned offset -> channelPost -> channelAwait (or its step) -> read
// the response -> channelEnd. A server: channelServerAttach once; then
// channelReceive (or its step) -> read the request, write the response at
// the response offset it names -> channelRespond (or channelRespondReceive,
// which answers and takes the next request in one call).
//
// Every function re-reads the geometry and checks it against the segment
// (capacityOf), so a corrupt channel gives CORRUPT and never a stray access.

import { hostWake } from "../base/host";
import { nowMs } from "../base/clock";
import { semaphoreCancelWait } from "../semaphore/semaphore";
import { mutexHolder } from "../mutex/mutex";
import { queueCancelWait, queueInterrupt } from "../queue/wait";
import { CORRUPT, EXISTS, INVALID_ARGUMENT, MUST_WAIT, NOT_OWNER, OK, OWNER_DIED } from "../base/status";
import {
  block, claimRole, holdsRole, releaseRole, ROLE_ALREADY_OURS, ROLE_BUSY, ROLE_TAKEN_OVER,
} from "../base/waiting";
import {
  ACCESS, at, capacityOf, CLIENTS, FIRST_FIELD, queueOf, REQUEST_SEM, RESPONSE_SEM, SERVED,
  SERVER_PID, SERVER_RECORD_PID, SERVER_START, STATE,
} from "./layout";
import {
  classicAcquireStep, classicAwaitStep, classicEnd, classicFailPending, classicPost,
  classicReceiveStep, classicRecover, classicRespond, classicResponseBuffer, classicSettleStep,
} from "./classic";
import {
  manyAwaitCancel, manyAwaitStep, manyClaimStep, manyClientAttach, manyClientDetach, manyEnd, manyPost,
  manyReceiveStep, manyRespond,
  manyResponseBuffer, manySettleStep,
} from "./many";
import { manyAttached, manyDetachServer, manyRecover } from "./many_recovery";

// @ts-ignore: decorator
@inline function clientsOf(offset: u32): u32 {
  return load<u32>(at(offset) + CLIENTS);
}

/**
 * Attaches this process as the channel's server: OK, OWNER_DIED (took over
 * from a dead server) or -EXISTS (a live server is attached). Repairs what
 * a previous server left unfinished (see classicRecover, manyRecover).
 */
export function channelServerAttach(offset: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const a = at(offset);
  const taken = claimRole(a + SERVER_PID, a + SERVER_RECORD_PID, a + SERVER_START);
  if (taken == ROLE_BUSY) return -EXISTS;
  if (taken != ROLE_ALREADY_OURS) {
    const clients = clientsOf(offset);
    if (clients == 0) classicRecover(offset);
    else manyRecover(offset, capacity, clients);
  }
  return taken == ROLE_TAKEN_OVER ? OWNER_DIED : OK;
}

/**
 * Gives the server role up, first answering what is pending (classic: the
 * exchange becomes SERVER_LOST; many-client: NO_SERVER to every waiting
 * client), so that no client waits out its timeout for a server that left.
 * Clients that come later find the role free and get NO_SERVER at once.
 */
export function channelServerDetach(offset: u32): void {
  const a = at(offset);
  if (!holdsRole(a + SERVER_PID)) return;
  const capacity = capacityOf(offset);
  if (capacity != 0) {
    const clients = clientsOf(offset);
    if (clients == 0) classicFailPending(offset);
    else manyDetachServer(offset, capacity, clients);
  }
  releaseRole(a + SERVER_PID, a + SERVER_RECORD_PID);
}

/** Many-client mode: takes a response slot (index, or -FULL). Classic mode: 0. */
export function channelClientAttach(offset: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const clients = clientsOf(offset);
  return clients == 0 ? 0 : manyClientAttach(offset, capacity, clients);
}

export function channelClientDetach(offset: u32, slot: u32): void {
  const capacity = capacityOf(offset);
  const clients = clientsOf(offset);
  if (capacity != 0 && clients != 0) manyClientDetach(offset, capacity, clients, slot);
}

/** First step of a request: classic, lock access; many-client, settle the own slot. OK or -status. */
export function channelAcquireStep(offset: u32, slot: u32, unused: u32, flags: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const clients = clientsOf(offset);
  if (clients == 0) return classicAcquireStep(offset, 0, 0, flags);
  return manySettleStep(offset, capacity, clients, slot, flags);
}

export function channelAcquireCancel(offset: u32, slot: u32): void {
  const capacity = capacityOf(offset);
  const clients = clientsOf(offset);
  if (capacity != 0 && clients != 0) manyAwaitCancel(offset, capacity, clients, slot);
}

/**
 * Second step: classic, settle an unfinished earlier exchange; many-client,
 * claim a request-queue slot. Returns the offset to write the request at.
 */
export function channelPrepareStep(offset: u32, slot: u32, unused: u32, flags: u32): i32 {
  if (capacityOf(offset) == 0) return -CORRUPT;
  if (clientsOf(offset) == 0) return classicSettleStep(offset, 0, 0, flags);
  return manyClaimStep(offset, flags);
}

export function channelPrepareCancel(offset: u32, slot: u32): void {
  if (capacityOf(offset) == 0) return;
  if (clientsOf(offset) == 0) semaphoreCancelWait(offset + RESPONSE_SEM);
  else queueCancelWait(queueOf(offset), 1);
}

/**
 * Both steps, blocking: returns the offset to write a request of up to
 * `capacity` bytes at, or -TIMED_OUT, -PEER_DIED, -NOT_OWNER, -CORRUPT.
 * After a failure nothing is held.
 */
export function channelBegin(offset: u32, slot: u32, timeoutMs: f64, spins: i32): i32 {
  // Probe first: when access is free and nothing needs settling, neither
  // step waits, and no clock is read (a clock read is a host call, about
  // 100 ns in Deno: the cost of a whole round trip's cache-line transfers).
  let r = channelAcquireStep(offset, slot, 0, 0);
  let remaining = timeoutMs;
  if (r == -MUST_WAIT) {
    const started = timeoutMs > 0 ? nowMs() : 0;
    r = block(channelAcquireStep, channelAcquireCancel, offset, slot, 0, timeoutMs, spins);
    if (r < 0) return r;
    if (timeoutMs > 0) {
      remaining = timeoutMs - (nowMs() - started);
      if (remaining < 0) remaining = 0;
    }
  } else if (r < 0) {
    return r;
  }
  const request = block(channelPrepareStep, channelPrepareCancel, offset, slot, 0, remaining, spins);
  if (request < 0) channelEnd(offset, slot, 0);
  return request;
}

/** Sends the request: `length` bytes written at `request` (what Begin returned). */
export function channelPost(offset: u32, slot: u32, request: u32, length: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const clients = clientsOf(offset);
  if (clients == 0) return classicPost(offset, capacity, length);
  return manyPost(offset, capacity, clients, slot, request, length);
}

/** Waits for the response: its offset, with (offset, length, status) in channelScratch. */
export function channelAwaitStep(offset: u32, slot: u32, unused: u32, flags: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const clients = clientsOf(offset);
  if (clients == 0) return classicAwaitStep(offset, capacity, flags);
  return manyAwaitStep(offset, capacity, clients, slot, flags);
}

export function channelAwaitCancel(offset: u32, slot: u32): void {
  const capacity = capacityOf(offset);
  if (capacity == 0) return;
  const clients = clientsOf(offset);
  if (clients == 0) semaphoreCancelWait(offset + RESPONSE_SEM);
  else manyAwaitCancel(offset, capacity, clients, slot);
}

export function channelAwait(offset: u32, slot: u32, timeoutMs: f64, spins: i32): i32 {
  return block(channelAwaitStep, channelAwaitCancel, offset, slot, 0, timeoutMs, spins);
}

/**
 * channelPost then channelAwait, in one call: the client's whole hop after it
 * wrote the request (one host-to-core crossing and one re-derivation of the
 * object instead of two). A failed post returns its status before any wait.
 */
export function channelSend(
  offset: u32, slot: u32, request: u32, length: u32, timeoutMs: f64, spins: i32,
): i32 {
  const posted = channelPost(offset, slot, request, length);
  if (posted < 0) return posted;
  return channelAwait(offset, slot, timeoutMs, spins);
}

/**
 * Ends the exchange (after the response was read, or after a failure):
 * classic, unlocks access; many-client, aborts a request slot claimed but
 * not posted (`request`, or 0) and returns the slot to IDLE.
 */
export function channelEnd(offset: u32, slot: u32, request: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  const clients = clientsOf(offset);
  if (clients == 0) return classicEnd(offset);
  return manyEnd(offset, capacity, clients, slot, request);
}

/**
 * Server: the next request's offset, with (request offset, length, response
 * offset, token) in channelScratch; -MUST_WAIT, -NOT_OWNER (not the attached
 * server), -CORRUPT.
 */
export function channelReceiveStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(at(offset) + SERVER_PID)) return -NOT_OWNER;
  const clients = clientsOf(offset);
  if (clients == 0) return classicReceiveStep(offset, capacity, flags);
  return manyReceiveStep(offset, capacity, clients, flags);
}

export function channelReceiveCancel(offset: u32, unused: u32): void {
  if (capacityOf(offset) == 0) return;
  if (clientsOf(offset) == 0) semaphoreCancelWait(offset + REQUEST_SEM);
  else queueCancelWait(queueOf(offset), 0);
}

export function channelReceive(offset: u32, timeoutMs: f64, spins: i32): i32 {
  return block(channelReceiveStep, channelReceiveCancel, offset, 0, 0, timeoutMs, spins);
}

/**
 * Server, before it writes the response in place: the response offset if the
 * request `token` is still being served by this server, else -NOT_OWNER or
 * -INVALID_ARGUMENT (the exchange was recovered or abandoned: write nothing).
 */
export function channelResponseBuffer(offset: u32, token: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(at(offset) + SERVER_PID)) return -NOT_OWNER;
  const clients = clientsOf(offset);
  if (clients == 0) return classicResponseBuffer(offset, token);
  return manyResponseBuffer(offset, capacity, clients, token);
}

/** Server: the response to `token` (`length` bytes at the response offset) is ready. */
export function channelRespond(offset: u32, token: u32, length: u32, status: u32): i32 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -CORRUPT;
  if (!holdsRole(at(offset) + SERVER_PID)) return -NOT_OWNER;
  const clients = clientsOf(offset);
  if (clients == 0) return classicRespond(offset, capacity, token, length, status);
  return manyRespond(offset, capacity, clients, token, length, status);
}

/**
 * channelRespond then channelReceive, in one call: the server's whole hop
 * after it wrote the response (it answers the request it holds and takes the
 * next, one host-to-core crossing instead of two). An answer dropped because
 * the request is no longer this server's (-INVALID_ARGUMENT: its client gave
 * up, or the exchange was recovered) does not stop the receive, as it does
 * not stop a host's serving loop; any other failure of the respond
 * (-TOO_LARGE: still serving, respond again; -NOT_OWNER; -CORRUPT) is
 * returned before any wait, with nothing received.
 */
export function channelRespondReceive(
  offset: u32, token: u32, length: u32, status: u32, timeoutMs: f64, spins: i32,
): i32 {
  const answered = channelRespond(offset, token, length, status);
  if (answered < 0 && answered != -INVALID_ARGUMENT) return answered;
  return channelReceive(offset, timeoutMs, spins);
}

/** Wakes a server parked in receive, so that it can notice it was asked to stop. */
export function channelInterrupt(offset: u32): void {
  if (capacityOf(offset) == 0) return;
  if (clientsOf(offset) == 0) hostWake(at(offset + REQUEST_SEM) + FIRST_FIELD, i32.MAX_VALUE);
  else queueInterrupt(queueOf(offset));
}

export const CHANNEL_INFO_CAPACITY: u32 = 0;
export const CHANNEL_INFO_CLIENTS: u32 = 1;
export const CHANNEL_INFO_SERVER: u32 = 2;
export const CHANNEL_INFO_SERVED: u32 = 3;
export const CHANNEL_INFO_ATTACHED: u32 = 4;
export const CHANNEL_INFO_ACCESS_HOLDER: u32 = 5;
export const CHANNEL_INFO_STATE: u32 = 6;

/** One inspection number (CHANNEL_INFO_*); -1 if corrupt. ATTACHED checks each slot owner's liveness. */
export function channelInfo(offset: u32, which: u32): f64 {
  const capacity = capacityOf(offset);
  if (capacity == 0) return -1;
  const a = at(offset);
  const clients = clientsOf(offset);
  if (which == CHANNEL_INFO_CAPACITY) return capacity;
  if (which == CHANNEL_INFO_CLIENTS) return clients;
  if (which == CHANNEL_INFO_SERVER) return atomic.load<u32>(a + SERVER_PID);
  if (which == CHANNEL_INFO_SERVED) return <f64>load<u64>(a + SERVED);
  if (which == CHANNEL_INFO_ACCESS_HOLDER) {
    // The access mutex's word names its holder (-1: not recoverable, no holder).
    const holder = clients == 0 ? mutexHolder(offset + ACCESS) : 0;
    return holder > 0 ? holder : 0;
  }
  if (which == CHANNEL_INFO_STATE) return clients == 0 ? atomic.load<u32>(a + STATE) : 0;
  if (which == CHANNEL_INFO_ATTACHED) return manyAttached(offset, capacity, clients);
  return -1;
}
