// The one place that knows every object kind: how large an object of a kind
// is for given parameters, how to initialise it, and how to check one found in
// a segment being opened. The directory calls these; each protocol file owns
// its own layout.

import { CACHE_LINE, KIND_BYTES, KIND_MUTEX, KIND_SEMAPHORE } from "./layout";
import { KIND_EVENT, KIND_RWLOCK } from "./layout";
import { rwlockInit, rwlockSize, rwlockValidate } from "../rwlock/rwlock";
import { EVENT_SIZE, eventValidate } from "../event/event";
import { KIND_CHANNEL, KIND_QUEUE, KIND_RING } from "./layout";
import { ringInit, ringSize, ringValidate } from "../ring/layout";
import { queueInit, queueSize, queueValidate } from "../queue/layout";
import { channelInit, channelSize, channelValidate } from "../channel/layout";
import { MUTEX_SIZE, mutexInit, mutexValidate } from "../mutex/mutex";
import { KIND_TOPIC } from "./layout";
import { topicInit, topicSize, topicValidate } from "../topic/layout";
import { KIND_BLACKBOARD } from "./layout";
import { blackboardInit, blackboardSize, blackboardValidate } from "../blackboard/layout";
import {
  SEMAPHORE_SIZE, semaphoreInit, semaphoreParamsValid, semaphoreValidate,
} from "../semaphore/semaphore";

/** Bytes an object of `kind` needs for these parameters, or 0 if they are invalid. */
export function objectSize(kind: u32, p0: u32, p1: u32, p2: u32): u32 {
  if (kind == KIND_BYTES) return p0 == 0 ? 0 : roundUp(p0);
  if (kind == KIND_MUTEX) return MUTEX_SIZE;
  if (kind == KIND_SEMAPHORE) return semaphoreParamsValid(p0, p1) ? SEMAPHORE_SIZE : 0;
  if (kind == KIND_RWLOCK) return rwlockSize(p0); // p0: reader slots
  if (kind == KIND_EVENT) return EVENT_SIZE;
  if (kind == KIND_RING) return ringSize(p0); // p0: data capacity (a power of two)
  if (kind == KIND_QUEUE) return queueSize(p0, p1); // p0: slot size, p1: slots (a power of two)
  if (kind == KIND_CHANNEL) return channelSize(p0, p1); // p0: capacity, p1: clients (0: classic)
  if (kind == KIND_TOPIC) return topicSize(p0, p1, p2); // p0: max message, p1: depth, p2: see topic/layout.ts
  // p0: keys, p1: maximum value size, p2: bytes of key names in blackboardKeyScratch
  if (kind == KIND_BLACKBOARD) return blackboardSize(p0, p1, p2);
  return 0;
}

/** Initialises a zero-filled object of `kind` at `offset`. */
export function objectInit(kind: u32, offset: u32, size: u32, p0: u32, p1: u32, p2: u32): void {
  if (kind == KIND_MUTEX) mutexInit(offset);
  else if (kind == KIND_SEMAPHORE) semaphoreInit(offset, p0, p1);
  else if (kind == KIND_RWLOCK) rwlockInit(offset, p0);
  else if (kind == KIND_RING) ringInit(offset, p0);
  else if (kind == KIND_QUEUE) queueInit(offset, p0, p1);
  else if (kind == KIND_CHANNEL) channelInit(offset, p0, p1);
  else if (kind == KIND_TOPIC) topicInit(offset, p0, p1, p2);
  else if (kind == KIND_BLACKBOARD) blackboardInit(offset, p0, p1);
}

/** Checks an object found in an opened segment; false means corrupt. */
export function objectValidate(kind: u32, offset: u32, size: u32): bool {
  if (kind == KIND_BYTES) return true;
  if (kind == KIND_MUTEX) return mutexValidate(offset, size);
  if (kind == KIND_SEMAPHORE) return semaphoreValidate(offset, size);
  if (kind == KIND_RWLOCK) return rwlockValidate(offset, size);
  if (kind == KIND_EVENT) return eventValidate(offset, size);
  if (kind == KIND_RING) return ringValidate(offset, size);
  if (kind == KIND_QUEUE) return queueValidate(offset, size);
  if (kind == KIND_CHANNEL) return channelValidate(offset, size);
  if (kind == KIND_TOPIC) return topicValidate(offset, size);
  if (kind == KIND_BLACKBOARD) return blackboardValidate(offset, size);
  return false;
}

export function roundUp(n: u32): u32 {
  return (n + CACHE_LINE - 1) & ~(CACHE_LINE - 1);
}
