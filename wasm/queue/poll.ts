// Readiness of a queue's consumer side without taking anything: the step a
// wait set (ts/wait_set.ts) runs to learn whether queueRead would likely hand
// out a message, registering as a parked consumer (STEP_PARK) so that a
// commit wakes it. With several consumers this is a hint: another consumer
// may take the message first. Layout and protocol: queue/layout.ts.

import { requestWait } from "../base/context";
import { CORRUPT, MUST_WAIT } from "../base/status";
import { STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import { at, DEQUEUE_POS, NOT_EMPTY_EPOCH, NOT_EMPTY_SLEEPERS, SEQ, slotAt, slotsOf } from "./layout";

/**
 * True if the slot at dequeuePos is READY, or in a state a read would move
 * past (taken, not yet advanced); if not, the slot's sequence word is left
 * requested as the word a spinning waiter watches.
 */
function readable(a: u32, slots: u32): bool {
  const pos = atomic.load<u32>(a + DEQUEUE_POS);
  const s = slotAt(a, pos, slots);
  const seq = <u32>atomic.load<u64>(s + SEQ);
  if (<i32>(seq - (pos + 1)) >= 0) return true;
  requestWait(s + SEQ, <i32>seq);
  return false;
}

/**
 * 1 if a read would likely find a message, else -MUST_WAIT with the
 * not-empty epoch requested as the word to wait on (a registration is
 * withdrawn by queueCancelWait(consumer)).
 */
export function queuePollStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  const slots = slotsOf(offset);
  if (slots == 0) return -CORRUPT;
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + NOT_EMPTY_SLEEPERS, 1);
  if (readable(a, slots)) return 1;
  // Spinning, the slot's sequence word (requested by readable) is what changes.
  if ((flags & STEP_PARK) == 0) return -MUST_WAIT;
  atomic.add<u32>(a + NOT_EMPTY_SLEEPERS, 1);
  // SYNC: seq_cst: registered, then the epoch, then a last look; pairs with
  // the producer's commit, then load of the sleepers, then epoch bump.
  const epoch = atomic.load<u32>(a + NOT_EMPTY_EPOCH);
  if (readable(a, slots)) {
    atomic.sub<u32>(a + NOT_EMPTY_SLEEPERS, 1);
    return 1;
  }
  // Parked, only the not-empty epoch is woken.
  requestWait(a + NOT_EMPTY_EPOCH, <i32>epoch);
  return -MUST_WAIT;
}
