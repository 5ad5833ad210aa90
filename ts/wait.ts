// The async side of every blocking object: drive the core's step function,
// and whenever it answers MUST_WAIT, wait on the futex it names off the
// JavaScript thread, so that the event loop keeps running.

import type { Segment } from "./segment.ts";

/** How long one async sleep lasts before the step is retried with a liveness check. */
const ASYNC_SLICE_MS = 100;

/**
 * Calls `step(checkHolder)` until it returns something other than MUST_WAIT,
 * sleeping off-thread in between. Returns the last status, or TIMED_OUT.
 * `checkHolder` is true after a sleep that ran its whole slice.
 */
export async function stepUntilDone(
  segment: Segment,
  step: (checkHolder: boolean) => number,
  timeoutMs: number,
): Promise<number> {
  const k = segment.constants;
  const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
  let checkHolder = false;
  while (true) {
    segment.assertOpen();
    const status = step(checkHolder);
    if (status !== k.MUST_WAIT) return status;
    const remaining = deadline - performance.now();
    if (remaining <= 0) return k.TIMED_OUT;
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
