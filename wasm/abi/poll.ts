// The exported readiness steps of the wait set (ts/wait_set.ts): for each
// kind, "would a read hand something out now", without taking it, in the
// step contract of base/waiting.ts. Each takes a handle from objectOpen and
// re-derives the object's offset and extent from the private handle table.

import { KIND_QUEUE, KIND_RING } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import { ringPollStep as ringPoll } from "../ring/poll";
import { queuePollStep as queuePoll } from "../queue/poll";

export function ringPollStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = enterObject(handle, KIND_RING);
  return o == 0 ? -INVALID_ARGUMENT : ringPoll(o, unused0, unused1, flags);
}

export function queuePollStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = enterObject(handle, KIND_QUEUE);
  return o == 0 ? -INVALID_ARGUMENT : queuePoll(o, unused0, unused1, flags);
}
