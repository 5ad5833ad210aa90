// Request/response channel: clients send a request, one server answers it.
// Two modes share this layout's first 384 bytes:
//
//  classic (clients = 0): one shared buffer and the classic exchange, see
//  channel/classic.ts. many-client (clients = K): a request queue and K
//  per-client response slots with correlation ids, see channel/many.ts.
//
//  object offset
//  0    ┌ config, written once by channelInit ──────────────────────────────┐
//       │ capacity u32 (max message bytes) │ clients u32 (0: classic)       │
//  64   ├ access: robust mutex (classic) ────────────────────────────────────┤
//  128  ├ request semaphore: requests posted, not yet taken (classic) ───────┤
//  192  ├ response semaphore: responses written, not yet read (classic) ─────┤
//  256  ├ server line: pid u32 │ recordPid u32 │ startTicks u64 │ reserved ┤
//  320  ├ exchange line (classic): state u32 │ requestLength u32 │          │
//       │ responseLength u32 │ responseStatus u32 │ reserved u32 │ seq u32   │
//       │ served u64 (both modes)                                          │
//  384  ├ classic: buffer (capacity bytes): the request, then the response  │
//       │ in place                                                         │
//       │ many-client: request queue (queue/layout.ts; slot = 8-byte header +     │
//       │ capacity), then K client slots of CLIENT_SLOT_HEADER + capacity  │
//       │ rounded up to 64 (layout in channel/many.ts)                     │
//       └───────────────────────────────────────────────────────────────────┘
//
// served, the answers given, is written by the server with every answer: on
// the exchange line, which the server writes then anyway (many-client mode
// leaves the rest of that line unused). It used to be on the server line,
// which every client reads in every exchange (is a server attached?): one
// more cache line crossing cores per round trip, about a quarter of the
// protocol's memory traffic (bench/c/exchange_lines.c; layout version 4).
//
// Who holds access is the access mutex's own word (mutexHolder). Until
// layout version 5 the client also wrote its pid into the exchange line when
// it took access and 0 when it gave it up, for inspection only: two
// sequentially consistent stores per round trip (about 11 ns in C, both sides
// in one thread: bench/c/exchange_lines.c) that said what the mutex already
// says. The word is reserved (zero) since.
//
// Roles are recorded as pid + start ticks (base/waiting.ts claimRole): one server
// at a time; in many-client mode one process per client slot. A waiter whose
// wait slice runs out checks the other side's liveness, so a dead server
// gives its clients PEER_DIED within about context.livenessPollMs, and a dead
// client never holds anything the server or other clients wait for.

import { SEGMENT_BASE, at } from "../segment/layout";
import { inObject } from "../base/context";
import { mutexInit } from "../mutex/mutex";
import { semaphoreInit } from "../semaphore/semaphore";
import { queueInit, queueSize } from "../queue/layout";

export const CHANNEL_MAX_CAPACITY: u32 = 1 << 28;
export const CHANNEL_MAX_CLIENTS: u32 = 1024;
/** Bytes of correlation header in front of each request in the many-client queue. */
export const CHANNEL_REQUEST_HEADER: u32 = 8;
export const CLIENT_SLOT_HEADER: u32 = 64;
/** Response status: the server answered. */
export const CHANNEL_STATUS_OK: u32 = 0;
/** Response status: the server's handler failed; the response is its message. */
export const CHANNEL_STATUS_FAILED: u32 = 1;
/** Response status: the server died with the request; a server that took over answers this. */
export const CHANNEL_STATUS_SERVER_DIED: u32 = 2;
/** Response status: the server detached without answering (many-client mode; the host reports NO_SERVER). */
export const CHANNEL_STATUS_NO_SERVER: u32 = 3;
/** Response status: a relaying server (a bridge) gave up waiting for the far side; the response is its message. */
export const CHANNEL_STATUS_TIMED_OUT: u32 = 4;
/** Response status: a relaying server (a bridge) cannot reach the far side now; the response is its message. */
export const CHANNEL_STATUS_UNAVAILABLE: u32 = 5;

// @ts-ignore: decorator
@inline export const CAPACITY: u32 = 0;
// @ts-ignore: decorator
@inline export const CLIENTS: u32 = 4;
// @ts-ignore: decorator
@inline export const ACCESS: u32 = 64;
// @ts-ignore: decorator
@inline export const REQUEST_SEM: u32 = 128;
// @ts-ignore: decorator
@inline export const RESPONSE_SEM: u32 = 192;
// @ts-ignore: decorator
@inline export const SERVER_PID: u32 = 256;
// @ts-ignore: decorator
@inline export const SERVER_RECORD_PID: u32 = SERVER_PID + 4;
// @ts-ignore: decorator
@inline export const SERVER_START: u32 = SERVER_RECORD_PID + 4;
// @ts-ignore: decorator
@inline export const STATE: u32 = 320;
// @ts-ignore: decorator
@inline export const REQUEST_LENGTH: u32 = STATE + 4;
// @ts-ignore: decorator
@inline export const RESPONSE_LENGTH: u32 = REQUEST_LENGTH + 4;
// @ts-ignore: decorator
@inline export const RESPONSE_STATUS: u32 = RESPONSE_LENGTH + 4;
// @ts-ignore: decorator
@inline export const SEQUENCE: u32 = RESPONSE_STATUS + 8;
// @ts-ignore: decorator
@inline export const SERVED: u32 = SEQUENCE + 4;
// @ts-ignore: decorator
@inline export const BODY: u32 = 384;

// The futex word of the embedded mutex and semaphores is their first field
// (mutex/mutex.ts: word; semaphore/semaphore.ts: value); spinning waiters load it.
// @ts-ignore: decorator
@inline export const FIRST_FIELD: u32 = 0;

/** Semaphore maxima: stale permits are tolerated (the state word is the truth), so never OVERFLOW. */
// @ts-ignore: decorator
@inline export const PERMITS_MAX: u32 = 1 << 20;

/**
 * Private results (page 0). After a receive: request offset, request
 * length, response offset, token. After an await: response offset,
 * response length, response status.
 */
export const channelScratch: usize = memory.data(16);


// @ts-ignore: decorator
@inline function roundUp64(n: u32): u32 {
  return (n + 63) & ~63;
}

/** Request-queue slot count for K clients: one outstanding request each, a power of two. */
export function queueSlotsFor(clients: u32): u32 {
  let slots: u32 = 2;
  while (slots < clients) slots <<= 1;
  return slots;
}

export function clientSlotStride(capacity: u32): u32 {
  return CLIENT_SLOT_HEADER + roundUp64(capacity);
}

/** Bytes a channel needs, or 0 if the parameters are invalid. */
export function channelSize(capacity: u32, clients: u32): u32 {
  if (capacity == 0 || capacity > CHANNEL_MAX_CAPACITY || clients > CHANNEL_MAX_CLIENTS) return 0;
  if (clients == 0) return BODY + roundUp64(capacity);
  const queue = queueSize(capacity + CHANNEL_REQUEST_HEADER, queueSlotsFor(clients));
  if (queue == 0) return 0;
  const size = <u64>BODY + roundUp64(queue) + <u64>clients * clientSlotStride(capacity);
  return size > (1 << 30) ? 0 : <u32>size;
}

export function channelInit(offset: u32, capacity: u32, clients: u32): void {
  const a = at(offset);
  store<u32>(a + CAPACITY, capacity);
  store<u32>(a + CLIENTS, clients);
  mutexInit(offset + ACCESS);
  semaphoreInit(offset + REQUEST_SEM, 0, PERMITS_MAX);
  semaphoreInit(offset + RESPONSE_SEM, 0, PERMITS_MAX);
  if (clients != 0) queueInit(offset + BODY, capacity + CHANNEL_REQUEST_HEADER, queueSlotsFor(clients));
}

/** The capacity if the stored geometry fits inside the segment, else 0. */
export function capacityOf(offset: u32): u32 {
  const a = at(offset);
  const capacity = load<u32>(a + CAPACITY);
  const clients = load<u32>(a + CLIENTS);
  // The classic channel's size inline (every call of every exchange comes
  // here); the same checks as channelSize's, which sizes the other mode.
  if (clients == 0) {
    return capacity != 0 && capacity <= CHANNEL_MAX_CAPACITY && inObject(offset, BODY + roundUp64(capacity))
      ? capacity
      : 0;
  }
  const size = channelSize(capacity, clients);
  return size != 0 && inObject(offset, size) ? capacity : 0;
}

/** A structural check of a channel found in a segment being opened. */
export function channelValidate(offset: u32, size: u32): bool {
  const a = at(offset);
  const needed = channelSize(load<u32>(a + CAPACITY), load<u32>(a + CLIENTS));
  return needed != 0 && needed <= size;
}

/** The offset of the many-client request queue. */
// @ts-ignore: decorator
@inline export function queueOf(offset: u32): u32 {
  return offset + BODY;
}

/** The object offset of client slot `index` (many-client mode). */
export function clientSlotOf(offset: u32, capacity: u32, clients: u32, index: u32): u32 {
  const queue = queueSize(capacity + CHANNEL_REQUEST_HEADER, queueSlotsFor(clients));
  return offset + BODY + roundUp64(queue) + index * clientSlotStride(capacity);
}

export { at };
