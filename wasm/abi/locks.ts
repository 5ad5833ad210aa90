// The exported face of the locks (mutex, semaphore, rwlock, event): each
// export takes a handle from objectOpen (segment/handles.ts), re-derives the object's
// offset from the private handle table at the call, and only then runs the
// protocol (the protocol files take offsets and never see a handle). A handle
// that is not an open object of the right kind gives -INVALID_ARGUMENT.

import { KIND_EVENT, KIND_MUTEX, KIND_RWLOCK, KIND_SEMAPHORE } from "../segment/layout";
import { enterObject } from "../segment/handles";
import { INVALID_ARGUMENT } from "../base/status";
import {
  mutexConsistent as consistent, mutexHasWaiters as hasWaiters, mutexHolder as holder,
  mutexLock as lock, mutexLockCancel as lockCancel, mutexLockStep as lockStep,
  mutexTryLock as tryLock, mutexUnlock as unlock,
} from "../mutex/mutex";
import {
  semaphoreMaximum as semMaximum, semaphorePost as semPost, semaphoreSleepers as semSleepers,
  semaphoreTryWait as semTryWait, semaphoreValue as semValue, semaphoreWait as semWait,
  semaphoreWaitCancel as semWaitCancel, semaphoreWaitStep as semWaitStep,
} from "../semaphore/semaphore";
import { rwlockLockCancel as rwLockCancel, rwlockReadStep as rwReadStep, rwlockWriteStep as rwWriteStep } from "../rwlock/rwlock";
import { rwlockConsistent as rwConsistent, rwlockRead as rwRead, rwlockReaders as rwReaders, rwlockReaderSlots as rwReaderSlots, rwlockReadUnlock as rwReadUnlock, rwlockTryRead as rwTryRead, rwlockTryWrite as rwTryWrite, rwlockWrite as rwWrite, rwlockWriter as rwWriter, rwlockWriteUnlock as rwWriteUnlock } from "../rwlock/locking";
import {
  eventNotifies as evNotifies, eventNotify as evNotify, eventSequence as evSequence,
  eventSleepers as evSleepers, eventWait as evWait, eventWaitCancel as evWaitCancel,
  eventWaitStep as evWaitStep,
} from "../event/event";

// Every export follows the one convention of the core: a result >= 0 (OK,
// OWNER_DIED, a value) or a negated status; a bad handle is -INVALID_ARGUMENT.
// Steps and cancels have the shape of base/waiting.ts's Step and Cancel.

// @ts-ignore: decorator
@inline function mutexAt(handle: u32): u32 {
  return enterObject(handle, KIND_MUTEX);
}

export function mutexTryLock(handle: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : tryLock(o);
}

export function mutexLockStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : lockStep(o, unused0, unused1, flags);
}

export function mutexLockCancel(handle: u32, unused: u32): void {
  const o = mutexAt(handle);
  if (o != 0) lockCancel(o, unused);
}

export function mutexLock(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : lock(o, timeoutMs, spins);
}

export function mutexUnlock(handle: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : unlock(o);
}

export function mutexConsistent(handle: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : consistent(o);
}

/** The holder's pid, 0 if free, -1 if not recoverable, -INVALID_ARGUMENT for a bad handle. */
export function mutexHolder(handle: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : holder(o);
}

export function mutexHasWaiters(handle: u32): i32 {
  const o = mutexAt(handle);
  return o == 0 ? 0 : hasWaiters(o);
}

// @ts-ignore: decorator
@inline function semaphoreAt(handle: u32): u32 {
  return enterObject(handle, KIND_SEMAPHORE);
}

export function semaphoreTryWait(handle: u32): i32 {
  const o = semaphoreAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : semTryWait(o);
}

export function semaphoreWaitStep(handle: u32, unused0: u32, unused1: u32, flags: u32): i32 {
  const o = semaphoreAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : semWaitStep(o, unused0, unused1, flags);
}

export function semaphoreWaitCancel(handle: u32, unused: u32): void {
  const o = semaphoreAt(handle);
  if (o != 0) semWaitCancel(o, unused);
}

export function semaphoreWait(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = semaphoreAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : semWait(o, timeoutMs, spins);
}

export function semaphorePost(handle: u32, count: u32): i32 {
  const o = semaphoreAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : semPost(o, count);
}

export function semaphoreValue(handle: u32): u32 {
  const o = semaphoreAt(handle);
  return o == 0 ? 0 : semValue(o);
}

export function semaphoreSleepers(handle: u32): u32 {
  const o = semaphoreAt(handle);
  return o == 0 ? 0 : semSleepers(o);
}

export function semaphoreMaximum(handle: u32): u32 {
  const o = semaphoreAt(handle);
  return o == 0 ? 0 : semMaximum(o);
}

// @ts-ignore: decorator
@inline function rwlockAt(handle: u32): u32 {
  return enterObject(handle, KIND_RWLOCK);
}

export function rwlockTryRead(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwTryRead(o);
}

export function rwlockReadStep(handle: u32, token: u32, unused: u32, flags: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwReadStep(o, token, unused, flags);
}

export function rwlockRead(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwRead(o, timeoutMs, spins);
}

export function rwlockReadUnlock(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwReadUnlock(o);
}

export function rwlockTryWrite(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwTryWrite(o);
}

export function rwlockWriteStep(handle: u32, token: u32, unused: u32, flags: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwWriteStep(o, token, unused, flags);
}

export function rwlockLockCancel(handle: u32, token: u32): void {
  const o = rwlockAt(handle);
  if (o != 0) rwLockCancel(o, token);
}

export function rwlockWrite(handle: u32, timeoutMs: f64, spins: i32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwWrite(o, timeoutMs, spins);
}

export function rwlockWriteUnlock(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwWriteUnlock(o);
}

export function rwlockConsistent(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwConsistent(o);
}

/** The writer's pid, 0 if none, -1 if not recoverable, -INVALID_ARGUMENT for a bad handle. */
export function rwlockWriter(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwWriter(o);
}

export function rwlockReaders(handle: u32): i32 {
  const o = rwlockAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : rwReaders(o);
}

export function rwlockReaderSlots(handle: u32): u32 {
  const o = rwlockAt(handle);
  return o == 0 ? 0 : rwReaderSlots(o);
}

// @ts-ignore: decorator
@inline function eventAt(handle: u32): u32 {
  return enterObject(handle, KIND_EVENT);
}

export function eventSequence(handle: u32): u32 {
  const o = eventAt(handle);
  return o == 0 ? 0 : evSequence(o);
}

export function eventNotify(handle: u32, count: i32): i32 {
  const o = eventAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : evNotify(o, count);
}

export function eventWaitStep(handle: u32, sequence: u32, unused: u32, flags: u32): i32 {
  const o = eventAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : evWaitStep(o, sequence, unused, flags);
}

export function eventWaitCancel(handle: u32, sequence: u32): void {
  const o = eventAt(handle);
  if (o != 0) evWaitCancel(o, sequence);
}

export function eventWait(handle: u32, sequence: u32, timeoutMs: f64, spins: i32): i32 {
  const o = eventAt(handle);
  return o == 0 ? -INVALID_ARGUMENT : evWait(o, sequence, timeoutMs, spins);
}

export function eventSleepers(handle: u32): u32 {
  const o = eventAt(handle);
  return o == 0 ? 0 : evSleepers(o);
}

export function eventNotifies(handle: u32): u64 {
  const o = eventAt(handle);
  return o == 0 ? 0 : evNotifies(o);
}
