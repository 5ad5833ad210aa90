// The async side of every blocking object, locks and queues alike: drive the
// core's step function (one contract for all, wasm/base/waiting.ts), and whenever
// it answers -MUST_WAIT, wait on the futex it names off the JavaScript
// thread, so that the event loop keeps running.

import type { Core, CoreConstants } from "./core.ts";
import type { Posix } from "./platform/mod.ts";
import { argumentError } from "./errors.ts";
import { shown } from "./names.ts";

/** @internal What the async driver needs of a mapped segment (a Mapping; declared here so wait.ts imports no object). */
export interface Waiting {
  readonly core: Core;
  readonly constants: CoreConstants;
  readonly posix: Posix;
  readonly base: number;
  readonly closed: boolean;
  assertOpen(): void;
}

/** How long one async sleep lasts before the step is retried with a liveness check. */
const ASYNC_SLICE_MS = 100;
/**
 * @internal
 * Sleeps off the JavaScript thread while the word at the real `address`
 * holds `expected`, at most `timeoutMs`, through the platform's one async
 * futex wait (each backend in ts/platform/ says where it runs: Deno's
 * blocking pool, Bun's worker pool, Node's libuv pool or waiter threads).
 */
export function waitOffThread(
  segment: Waiting,
  address: number,
  expected: number,
  timeoutMs: number,
): Promise<number> {
  return segment.posix.futexWaitAsync(address, expected, timeoutMs);
}

/** @internal Checks a `timeoutMs` option: undefined means no limit (-1 for the core). */
export function timeoutOption(timeoutMs: number | undefined): number {
  if (timeoutMs === undefined) return -1;
  if (typeof timeoutMs !== "number") {
    throw argumentError("type", `Invalid timeoutMs ${shown(timeoutMs)}: it must be a number >= 0`);
  }
  if (Number.isNaN(timeoutMs) || timeoutMs < 0) {
    throw argumentError("range", `Invalid timeoutMs ${timeoutMs}: it must be a number >= 0`);
  }
  return timeoutMs === Infinity ? -1 : timeoutMs;
}

/**
 * How an object waits (every lock and queue). `"adaptive"` (the
 * default) spins briefly, then parks on the futex; `"spin"` never parks (the
 * lowest latency, one busy core per waiter); `"park"` sleeps at once (no
 * busy time at all).
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/wait-example", { size: 1 << 20 });
 * const ring = segment.ring("r", { wait: "spin" });  // this handle's default
 * ring.send("x", { timeoutMs: 100, wait: "park" });  // this call's
 * segment.unlink();
 * ```
 */
export type WaitMode = "adaptive" | "spin" | "park";

/** @internal The core's `spins` argument for a wait mode (see wasm/base/waiting.ts). */
export function spinsFor(k: Readonly<Record<string, number>>, mode: WaitMode): number {
  if (mode === "adaptive") return k.WAIT_ADAPTIVE;
  if (mode === "spin") return k.WAIT_SPIN;
  if (mode === "park") return 0;
  throw argumentError("range", `Invalid wait mode ${shown(mode)}: "adaptive", "spin" or "park"`);
}

/** How long an async "adaptive" wait polls the futex word on the JS thread before parking off-thread. */
const ASYNC_SPIN_MS = 0.05;
/** How long an async "spin" wait polls before it lets the event loop run. */
const ASYNC_YIELD_MS = 1;

/**
 * How long an async wait in `mode` may poll synchronously, in one core call
 * (the core's WAIT_SPIN with this as its time limit), before it awaits
 * anything: a peer that answers within it costs one call and a resolved
 * promise instead of the awaitStep machinery (1-3 KB of promises and
 * closures per message in V8, measured by bench/allocation.ts). 0: do not
 * poll ("park", or no time left).
 */
export function asyncPollMs(mode: WaitMode, timeoutMs: number): number {
  const poll = mode === "adaptive" ? ASYNC_SPIN_MS : mode === "spin" ? ASYNC_YIELD_MS : 0;
  return timeoutMs < 0 || poll < timeoutMs ? poll : timeoutMs;
}

/**
 * What is left of an async wait after a poll of `polledMs` found nothing:
 * the time limit less the poll, and the mode for awaitStep ("adaptive" has
 * polled already, so it parks at once; "spin" goes on spinning with yields).
 * The poll lasted at least `polledMs` (the core times out only past it), so
 * the whole wait never ends before its limit.
 */
export function afterPoll(
  mode: WaitMode,
  timeoutMs: number,
  polledMs: number,
): { timeoutMs: number | undefined; wait: WaitMode } {
  const left = afterPollTimeoutMs(timeoutMs, polledMs);
  return { timeoutMs: left < 0 ? undefined : left, wait: afterPollMode(mode) };
}

/** afterPoll's mode alone. */
export function afterPollMode(mode: WaitMode): WaitMode {
  return mode === "adaptive" ? "park" : mode;
}

/** afterPoll's time limit alone, as the core takes it (-1: none), without an options object. */
export function afterPollTimeoutMs(timeoutMs: number, polledMs: number): number {
  return timeoutMs < 0 ? -1 : Math.max(0, timeoutMs - polledMs);
}

let immediate: ((resolve: () => void) => void) | undefined;

async function yieldToEventLoop(): Promise<void> {
  // setImmediate lets I/O and timers run, unlike a resolved promise (deno, node and bun have it).
  immediate ??= ((await import("node:timers")).setImmediate as unknown) as (resolve: () => void) => void;
  await new Promise<void>((resolve) => immediate!(resolve));
}

/**
 * @internal
 * Drives a step of the core (`step(flags)` returns a result >= 0 or a
 * negative status, -MUST_WAIT to wait; see wasm/base/waiting.ts) without blocking
 * the event loop, and fast: it first polls the futex word the step named
 * with Atomics.load on this thread (for ASYNC_SPIN_MS, or in "spin" mode until
 * done, yielding to the event loop every millisecond), which catches a quick
 * peer without a thread hop and costs the peer no wake syscall; only then
 * does it register and park off-thread with futexWaitAsync in slices, asking
 * the step to check the peer's liveness after a slice that ran out. Returns
 * the step's result or -TIMED_OUT; throws `signal.reason` if aborted.
 */
export async function awaitStep(
  segment: Waiting,
  words: Int32Array,
  step: (flags: number) => number,
  cancel: () => void,
  timeoutMs: number,
  mode: WaitMode,
  signal?: AbortSignal,
): Promise<number> {
  const k = segment.constants;
  const core = segment.core;
  const mustWait = -k.MUST_WAIT;
  let r = step(0);
  if (r !== mustWait) return r;
  if (timeoutMs === 0) return -k.TIMED_OUT;
  const start = performance.now();
  const deadline = timeoutMs < 0 ? Infinity : start + timeoutMs;
  const spinUntil = mode === "spin"
    ? deadline
    : mode === "park"
    ? start
    : Math.min(deadline, start + ASYNC_SPIN_MS);
  let yielded = start;
  let checkPeerAt = start + ASYNC_SLICE_MS;
  let now = start;
  while (now < spinUntil) {
    const index = core.waitAddress() >>> 2;
    const value = core.waitValue();
    for (let i = 0; i < 256 && Atomics.load(words, index) === value; i++);
    now = performance.now();
    let flags = 0;
    if (mode === "spin") {
      if (now - yielded >= ASYNC_YIELD_MS) {
        await yieldToEventLoop();
        if (signal?.aborted) throw signal.reason;
        segment.assertOpen();
        now = yielded = performance.now();
      }
      if (now >= checkPeerAt) {
        flags = k.STEP_CHECK_PEER;
        checkPeerAt = now + ASYNC_SLICE_MS;
      }
    }
    r = step(flags);
    if (r !== mustWait) return r;
    if (now >= deadline) return -k.TIMED_OUT;
  }
  let flags: number = k.STEP_PARK;
  while (true) {
    if (signal?.aborted || segment.closed) {
      if ((flags & k.STEP_REGISTERED) !== 0) cancel();
      if (signal?.aborted) throw signal.reason;
      segment.assertOpen();
    }
    r = step(flags);
    if (r !== mustWait) return r;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      cancel();
      return -k.TIMED_OUT;
    }
    const slice = Math.min(remaining, ASYNC_SLICE_MS);
    const started = performance.now();
    await waitOffThread(segment, segment.base + core.waitAddress(), core.waitValue(), slice);
    // errno is on another thread: a sleep that lasted its slice counts as a time-out.
    const sliceElapsed = performance.now() - started >= slice;
    flags = k.STEP_PARK | k.STEP_REGISTERED | (sliceElapsed ? k.STEP_CHECK_PEER : 0);
  }
}
