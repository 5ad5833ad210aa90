// The one place that knows every object kind: how large an object of a kind
// is for given parameters, how to initialise it, and how to check one found in
// a segment being opened. The directory calls these; each protocol file owns
// its own layout.

import { CACHE_LINE, KIND_BYTES, KIND_MUTEX, KIND_SEMAPHORE } from "./layout";
import { MUTEX_SIZE, mutexInit, mutexValidate } from "./mutex";
import {
  SEMAPHORE_SIZE, semaphoreInit, semaphoreParamsValid, semaphoreValidate,
} from "./semaphore";

/** Bytes an object of `kind` needs for these parameters, or 0 if they are invalid. */
export function objectSize(kind: u32, p0: u32, p1: u32, p2: u32): u32 {
  if (kind == KIND_BYTES) return p0 == 0 ? 0 : roundUp(p0);
  if (kind == KIND_MUTEX) return MUTEX_SIZE;
  if (kind == KIND_SEMAPHORE) return semaphoreParamsValid(p0, p1) ? SEMAPHORE_SIZE : 0;
  return 0;
}

/** Initialises a zero-filled object of `kind` at `offset`. */
export function objectInit(kind: u32, offset: u32, size: u32, p0: u32, p1: u32, p2: u32): void {
  if (kind == KIND_MUTEX) mutexInit(offset);
  else if (kind == KIND_SEMAPHORE) semaphoreInit(offset, p0, p1);
}

/** Checks an object found in an opened segment; false means corrupt. */
export function objectValidate(kind: u32, offset: u32, size: u32): bool {
  if (kind == KIND_BYTES) return true;
  if (kind == KIND_MUTEX) return mutexValidate(offset, size);
  if (kind == KIND_SEMAPHORE) return semaphoreValidate(offset, size);
  return false;
}

export function roundUp(n: u32): u32 {
  return (n + CACHE_LINE - 1) & ~(CACHE_LINE - 1);
}
