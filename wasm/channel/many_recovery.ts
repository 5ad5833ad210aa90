// Recovery of a many-client channel when its server goes (layout:
// many_layout.ts; the protocol: many.ts): a server attaching after a dead one
// answers what the dead one had taken, a server detaching answers everything
// pending, and inspection of who is attached. Every change of a slot's word
// or of a queue slot is a CAS from the state observed before the liveness
// check, so a request a live server holds is never touched.

import { hostWake } from "../base/host";
import { recordedHolderAlive, selfPid } from "../base/context";
import { at as queueAt, OWNER_RECORD_PID, OWNER_START, pack, QUEUE_SLOT_HEADER, SEQ, slotAt, slotsOf } from "../queue/layout";
import { free as freeSlot } from "../queue/operations";
import { at, CHANNEL_STATUS_NO_SERVER, CHANNEL_STATUS_SERVER_DIED, clientSlotOf, queueOf } from "./layout";
import {
  DONE, PHASE, PID, RECORD_PID, RESPONSE_LENGTH, RESPONSE_STATUS, SLEEPING, START, TAKEN, WAITING, WORD,
} from "./many_layout";

/**
 * Answers, with `status` and no bytes, every request whose slot is in one of
 * the phases `phases` (a bit per phase), each by CAS from the word observed,
 * so that their clients stop waiting: a server attaching after a dead one
 * answers what the old one had TAKEN (SERVER_DIED: one server at a time, so
 * every TAKEN slot is the old server's); a server detaching answers
 * everything WAITING or TAKEN (NO_SERVER).
 */
function manyFailPending(offset: u32, capacity: u32, clients: u32, phases: u32, status: u32): void {
  for (let i: u32 = 0; i < clients; i++) {
    const s = at(clientSlotOf(offset, capacity, clients, i));
    const word = atomic.load<u32>(s + WORD);
    if (((1 << (word & PHASE)) & phases) == 0) continue;
    // A CAS that fails below leaves these two fields written for a word that
    // moved on; they are read only with DONE, which every later answer
    // rewrites them for.
    store<u32>(s + RESPONSE_LENGTH, 0);
    store<u32>(s + RESPONSE_STATUS, status);
    if (atomic.cmpxchg<u32>(s + WORD, word, (word & ~PHASE) | DONE) == word &&
        atomic.load<u32>(s + SLEEPING) != 0) {
      hostWake(s + WORD, 1);
    }
  }
}

/**
 * Requests a dead server had dequeued (request-queue slots READING by a dead
 * process: only the server reads that queue) are lost with it: answer their
 * clients SERVER_DIED if still WAITING for them, and free the queue slot.
 * Each slot is taken over by CAS from the (seq, owner) observed before the
 * liveness check, each client slot answered by CAS from WAITING with the
 * request's cid; so a request a live server holds is never touched.
 */
function recoverDequeued(offset: u32, capacity: u32, clients: u32): void {
  const queue = queueOf(offset);
  const slots = slotsOf(queue);
  if (slots == 0) return;
  const q = queueAt(queue);
  for (let i: u32 = 0; i < slots; i++) {
    const slot = slotAt(q, i, slots);
    const h = atomic.load<u64>(slot + SEQ);
    const seq = <u32>h;
    const owner = <u32>(h >> 32);
    // READING: taken for the lap whose position is seq - 1, in this slot.
    if (owner == 0 || owner == selfPid || ((seq - 1) & (slots - 1)) != i) continue;
    if (recordedHolderAlive(slot + OWNER_RECORD_PID, slot + OWNER_START, owner)) continue;
    if (atomic.cmpxchg<u64>(slot + SEQ, h, pack(seq, selfPid)) != h) continue;
    const request = slot + QUEUE_SLOT_HEADER;
    const index = load<u32>(request);
    const cid = load<u32>(request + 4);
    if (index < clients) {
      const s = at(clientSlotOf(offset, capacity, clients, index));
      const waiting = (cid << 2) | WAITING;
      if (atomic.load<u32>(s + WORD) == waiting) {
        store<u32>(s + RESPONSE_LENGTH, 0);
        store<u32>(s + RESPONSE_STATUS, CHANNEL_STATUS_SERVER_DIED);
        if (atomic.cmpxchg<u32>(s + WORD, waiting, (cid << 2) | DONE) == waiting &&
            atomic.load<u32>(s + SLEEPING) != 0) {
          hostWake(s + WORD, 1);
        }
      }
    }
    freeSlot(q, slot, seq, slots);
  }
}

/**
 * A server attaching after another: requests the old one had TAKEN, or had
 * dequeued and not yet marked TAKEN, are answered SERVER_DIED.
 */
export function manyRecover(offset: u32, capacity: u32, clients: u32): void {
  recoverDequeued(offset, capacity, clients);
  manyFailPending(offset, capacity, clients, 1 << TAKEN, CHANNEL_STATUS_SERVER_DIED);
}

/** The server detaches: every pending request is answered NO_SERVER at once. */
export function manyDetachServer(offset: u32, capacity: u32, clients: u32): void {
  manyFailPending(offset, capacity, clients, (1 << WAITING) | (1 << TAKEN), CHANNEL_STATUS_NO_SERVER);
}

/** How many client slots a live process holds (checks each owner's liveness: for inspection). */
export function manyAttached(offset: u32, capacity: u32, clients: u32): u32 {
  let attached: u32 = 0;
  for (let i: u32 = 0; i < clients; i++) {
    const s = at(clientSlotOf(offset, capacity, clients, i));
    const pid = atomic.load<u32>(s + PID);
    if (pid != 0 && recordedHolderAlive(s + RECORD_PID, s + START, pid)) attached++;
  }
  return attached;
}
