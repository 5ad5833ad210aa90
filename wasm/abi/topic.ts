// The exported face of the topic: each export takes a handle from objectOpen
// (segment/handles.ts) and re-derives the object's offset and extent from the
// private handle table at the call before the protocol runs. A handle that is
// not an open topic gives -INVALID_ARGUMENT (or -1 / 0 / nothing where the
// export returns a number or nothing).

import { KIND_TOPIC } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import {
  topicAbort as abort, topicLoan as loan, topicLoanStep as loanStep, topicLoanWait as loanWait,
  topicPublish as publish, topicPublisherAttach as publisherAttach,
  topicPublisherDetach as publisherDetach,
} from "../topic/publisher";
import {
  topicCancelWait as cancelWait, topicChangeWord as changeWord, topicInfo as info,
  topicRead as read, topicReadStep as readStep, topicReadWait as readWait,
  topicPollStep as pollStep, topicRelease as release, topicSubscriberAttach as subscriberAttach,
  topicSubscriberDetach as subscriberDetach,
} from "../topic/subscriber";

// @ts-ignore: decorator
@inline function topicAt(handle: u32): u32 {
  return enterObject(handle, KIND_TOPIC);
}

export function topicPublisherAttach(handle: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : publisherAttach(o);
}

export function topicPublisherDetach(handle: u32): void {
  const o = topicAt(handle);
  if (o != 0) publisherDetach(o);
}

export function topicLoan(handle: u32, length: u32, type: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : loan(o, length, type);
}

export function topicLoanStep(handle: u32, length: u32, type: u32, flags: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : loanStep(o, length, type, flags);
}

export function topicLoanWait(handle: u32, length: u32, type: u32, timeoutMs: f64, spins: i32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : loanWait(o, length, type, timeoutMs, spins);
}

export function topicPublish(handle: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : publish(o);
}

export function topicAbort(handle: u32): void {
  const o = topicAt(handle);
  if (o != 0) abort(o);
}

export function topicSubscriberAttach(handle: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : subscriberAttach(o);
}

export function topicSubscriberDetach(handle: u32, index: u32): void {
  const o = topicAt(handle);
  if (o != 0) subscriberDetach(o, index);
}

export function topicRead(handle: u32, index: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : read(o, index);
}

export function topicReadStep(handle: u32, index: u32, unused: u32, flags: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : readStep(o, index, unused, flags);
}

export function topicReadWait(handle: u32, index: u32, timeoutMs: f64, spins: i32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : readWait(o, index, timeoutMs, spins);
}

export function topicCancelWait(handle: u32, role: u32): void {
  const o = topicAt(handle);
  if (o != 0) cancelWait(o, role);
}

export function topicRelease(handle: u32, index: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : release(o, index);
}

export function topicInfo(handle: u32, what: u32, index: u32): f64 {
  const o = topicAt(handle);
  return o == 0 ? -1 : info(o, what, index);
}

export function topicChangeWord(handle: u32): u32 {
  const o = topicAt(handle);
  return o == 0 ? 0 : changeWord(o);
}

export function topicPollStep(handle: u32, index: u32, unused: u32, flags: u32): i32 {
  const o = topicAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : pollStep(o, index, unused, flags);
}
