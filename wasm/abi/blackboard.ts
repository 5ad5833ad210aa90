// The exported face of the blackboard: each export takes a handle from
// objectOpen (segment/handles.ts), re-derives the object's offset and extent
// from the private handle table at the call, and only then runs the
// protocol. A handle that is not an open blackboard gives -INVALID_ARGUMENT
// (-1 where the export returns a figure; nothing for a cancel).

import { KIND_BLACKBOARD } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import {
  blackboardChangeWord as changeWord, blackboardGeneration as generation, blackboardInfo as info,
  blackboardKeyName as keyName, blackboardLocate as locate, blackboardVerify as verify,
  blackboardVersion as version, blackboardWait as wait, blackboardWaitCancel as waitCancel,
  blackboardWaitStep as waitStep,
} from "../blackboard/read";
import {
  blackboardAbort as abort, blackboardClaim as claim, blackboardClaimCancel as claimCancel,
  blackboardClaimStep as claimStep, blackboardCommit as commit, blackboardStage as stage,
  blackboardTryClaim as tryClaim, blackboardWriter as writer,
} from "../blackboard/write";

// @ts-ignore: decorator
@inline function blackboardAt(handle: u32): u32 {
  return enterObject(handle, KIND_BLACKBOARD);
}

export function blackboardGeneration(handle: u32): f64 {
  const o = blackboardAt(handle);
  return o == 0 ? -<f64>INVALID_ARGUMENT : generation(o);
}

export function blackboardLocate(handle: u32, key: u32, gen: f64): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : locate(o, key, gen);
}

export function blackboardVerify(handle: u32, key: u32, which: u32, stamp: f64): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : verify(o, key, which, stamp);
}

export function blackboardVersion(handle: u32, key: u32): f64 {
  const o = blackboardAt(handle);
  return o == 0 ? -<f64>INVALID_ARGUMENT : version(o, key);
}

export function blackboardChangeWord(handle: u32, key: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : changeWord(o, key);
}

export function blackboardWaitStep(handle: u32, key: u32, ver: u32, flags: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : waitStep(o, key, ver, flags);
}

export function blackboardWaitCancel(handle: u32, key: u32): void {
  const o = blackboardAt(handle);
  if (o != 0) waitCancel(o, key);
}

export function blackboardWait(handle: u32, key: u32, ver: u32, timeoutMs: f64, spins: i32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : wait(o, key, ver, timeoutMs, spins);
}

export function blackboardKeyName(handle: u32, key: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : keyName(o, key);
}

export function blackboardInfo(handle: u32, which: u32): f64 {
  const o = blackboardAt(handle);
  return o == 0 ? -1 : info(o, which);
}

export function blackboardTryClaim(handle: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : tryClaim(o);
}

export function blackboardClaimStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claimStep(o, unused0, unused1, flags);
}

export function blackboardClaimCancel(handle: u32, unused: u32): void {
  const o = blackboardAt(handle);
  if (o != 0) claimCancel(o, unused);
}

export function blackboardClaim(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : claim(o, timeoutMs, spins);
}

export function blackboardStage(handle: u32, key: u32, length: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : stage(o, key, length);
}

export function blackboardCommit(handle: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : commit(o);
}

export function blackboardAbort(handle: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : abort(o);
}

/** The write claim's holder pid, 0 if free, -1 if not recoverable, -INVALID_ARGUMENT for a bad handle. */
export function blackboardWriter(handle: u32): i32 {
  const o = blackboardAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : writer(o);
}
