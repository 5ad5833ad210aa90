// Readiness of a ring's consumer side without taking anything: the step a
// wait set (ts/wait_set.ts) runs to learn whether ringRead would hand out a
// record, registering as a parked consumer (STEP_PARK) so that the
// producer's commit wakes it. Layout and protocol: ring/layout.ts.

import { requestWait } from "../base/context";
import { CORRUPT, MUST_WAIT } from "../base/status";
import { STEP_PARK, STEP_REGISTERED } from "../base/waiting";
import { at, capacityOf, CONSUMER_SLEEPERS, READ_END, TAIL } from "./layout";

/**
 * 1 if a committed record has not been handed out yet, else -MUST_WAIT with
 * tail requested as the word to wait on (the step contract of
 * base/waiting.ts; a registration is withdrawn by ringCancelWait(consumer)).
 */
export function ringPollStep(offset: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const a = at(offset);
  if (capacityOf(offset) == 0) return -CORRUPT;
  if ((flags & STEP_REGISTERED) != 0) atomic.sub<u32>(a + CONSUMER_SLEEPERS, 1);
  const readEnd = load<u32>(a + READ_END);
  // SYNC: acquire; pairs with the release of tail in ringCommit.
  let tail = atomic.load<u32>(a + TAIL);
  if (tail != readEnd) return 1;
  if ((flags & STEP_PARK) != 0) {
    atomic.add<u32>(a + CONSUMER_SLEEPERS, 1);
    // SYNC: seq_cst after registering; pairs with the producer's load of the sleepers after its store of tail.
    tail = atomic.load<u32>(a + TAIL);
    if (tail != readEnd) {
      atomic.sub<u32>(a + CONSUMER_SLEEPERS, 1);
      return 1;
    }
  }
  requestWait(a + TAIL, <i32>tail);
  return -MUST_WAIT;
}
