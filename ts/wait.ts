// The async side of every blocking object: drive the core's step function,
// and whenever it answers MUST_WAIT, wait on the futex it names off the
// JavaScript thread, so that the event loop keeps running.

import type { Segment } from "./segment.ts";

/** How long one async sleep lasts before the step is retried with a liveness check. */
const ASYNC_SLICE_MS = 100;

/**
 * Calls `step(waited, sliceElapsed)` until it returns something other than
 * MUST_WAIT, sleeping off-thread in between on the word the core named.
 * `waited` is true on every call after a MUST_WAIT; `sliceElapsed` when that
 * sleep ran its whole slice (time to check a holder's liveness). Returns the
 * last status, or TIMED_OUT after calling `cancel` (which undoes whatever
 * registration the last MUST_WAIT step made).
 */
export async function stepUntilDone(
  segment: Segment,
  step: (waited: boolean, sliceElapsed: boolean) => number,
  timeoutMs: number,
  cancel?: () => void,
): Promise<number> {
  const k = segment.constants;
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  let waited = false;
  let checkHolder = false;
  while (true) {
    if (segment.closed) {
      if (waited) cancel?.();
      segment.assertOpen();
    }
    const status = step(waited, checkHolder);
    if (status !== k.MUST_WAIT) return status;
    waited = true;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      cancel?.();
      return k.TIMED_OUT;
    }
    const slice = Math.min(remaining, ASYNC_SLICE_MS);
    const started = performance.now();
    await segment.posix.futexWaitAsync(
      segment.base + segment.core.waitAddress(),
      segment.core.waitValue(),
      slice,
    );
    // errno is on another thread: a sleep that lasted its slice counts as a time-out.
    checkHolder = performance.now() - started >= slice;
  }
}

/** Checks a `timeoutMs` option: undefined means no limit (-1 for the core). */
export function timeoutOption(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return -1;
  if (typeof timeoutMs !== "number" || Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw new RangeError(`Invalid timeoutMs ${timeoutMs}: it must be a number >= 0`);
  }
  return timeoutMs === Infinity ? -1 : timeoutMs;
}
