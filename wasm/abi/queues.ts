// The exported face of the ring and the MPMC queue: each export takes a
// handle from objectOpen (segment/handles.ts) and re-derives the object's offset and
// extent from the private handle table at the call before the protocol runs.
// A handle that is not an open object of the right kind gives
// -INVALID_ARGUMENT (or 0 / -1 / nothing where the export returns a number).

import { KIND_QUEUE, KIND_RING } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import { ringAttach as attach, ringDetach as detach, ringMaxPayload as maxPayload } from "../ring/layout";
import {
  ringAbort as abort, ringCancelWait as cancelWait, ringClaim as claim, ringClaimMany as claimMany,
  ringClaimStep as claimStep, ringClaimWait as claimWait, ringCommit as commit,
} from "../ring/producer";
import {
  ringInfo as info, ringRead as read, ringReadMany as readMany, ringReadStep as readStep,
  ringReadWait as readWait, ringRelease as release,
} from "../ring/consumer";
import { queueAbort as qAbort, queueClaim as qClaim, queueCommit as qCommit, queueRead as qRead, queueRelease as qRelease } from "../queue/operations";
import {
  queueCancelWait as qCancelWait, queueClaimStep as qClaimStep, queueClaimWait as qClaimWait,
  queueInfo as qInfo, queueInterrupt as qInterrupt, queueReadStep as qReadStep,
  queueReadWait as qReadWait,
} from "../queue/wait";

// @ts-ignore: decorator
@inline function ringAt(handle: u32): u32 {
  return enterObject(handle, KIND_RING);
}

export function ringMaxPayload(handle: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : maxPayload(o);
}

export function ringAttach(handle: u32, role: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : attach(o, role);
}

export function ringDetach(handle: u32, role: u32): void {
  const o = ringAt(handle);
  if (o != 0) detach(o, role);
}

export function ringClaim(handle: u32, length: u32, type: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claim(o, length, type);
}

export function ringClaimMany(handle: u32, count: u32, length: u32, type: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claimMany(o, count, length, type);
}

export function ringClaimStep(handle: u32, length: u32, type: u32, flags: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claimStep(o, length, type, flags);
}

export function ringCancelWait(handle: u32, role: u32): void {
  const o = ringAt(handle);
  if (o != 0) cancelWait(o, role);
}

export function ringClaimWait(handle: u32, length: u32, type: u32, timeoutMs: f64, spins: i32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claimWait(o, length, type, timeoutMs, spins);
}

export function ringAbort(handle: u32): void {
  const o = ringAt(handle);
  if (o != 0) abort(o);
}

export function ringCommit(handle: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : commit(o);
}

export function ringRead(handle: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : read(o);
}

export function ringReadMany(handle: u32, max: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : readMany(o, max);
}

export function ringReadStep(handle: u32, max: u32, unused: u32, flags: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : readStep(o, max, unused, flags);
}

export function ringReadWait(handle: u32, max: u32, timeoutMs: f64, spins: i32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : readWait(o, max, timeoutMs, spins);
}

export function ringRelease(handle: u32): i32 {
  const o = ringAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : release(o);
}

export function ringInfo(handle: u32, which: u32): f64 {
  const o = ringAt(handle);
  return o == 0 ? -1 : info(o, which);
}

// @ts-ignore: decorator
@inline function queueAt(handle: u32): u32 {
  return enterObject(handle, KIND_QUEUE);
}

export function queueClaim(handle: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qClaim(o);
}

export function queueCommit(handle: u32, payload: u32, length: u32, type: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qCommit(o, payload, length, type);
}

export function queueAbort(handle: u32, payload: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qAbort(o, payload);
}

export function queueRead(handle: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qRead(o);
}

export function queueRelease(handle: u32, payload: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qRelease(o, payload);
}

export function queueClaimStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qClaimStep(o, unused0, unused1, flags);
}

export function queueReadStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qReadStep(o, unused0, unused1, flags);
}

export function queueCancelWait(handle: u32, producer: u32): void {
  const o = queueAt(handle);
  if (o != 0) qCancelWait(o, producer);
}

export function queueClaimWait(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qClaimWait(o, timeoutMs, spins);
}

export function queueReadWait(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = queueAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : qReadWait(o, timeoutMs, spins);
}

export function queueInterrupt(handle: u32): void {
  const o = queueAt(handle);
  if (o != 0) qInterrupt(o);
}

export function queueInfo(handle: u32, which: u32): f64 {
  const o = queueAt(handle);
  return o == 0 ? -1 : qInfo(o, which);
}
