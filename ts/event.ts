/**
 * An event (condition / notifier) in a segment: processes sleep until another
 * one notifies, and a sequence number makes sure no notify is missed.
 *
 * @module
 */

import type { Mapping, WaitingObjectOptions } from "./mapping.ts";
import type { LockOptions } from "./mutex.ts";
import { argumentError, WshmError } from "./errors.ts";
import { statusError } from "./status.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger } from "./names.ts";

function checkSequence(sequence: number): number {
  checkInteger(sequence, "sequence", 0, 0xFFFFFFFF, "a value read from event.sequence");
  return sequence | 0;
}

function checkCondition(condition: unknown): void {
  if (typeof condition !== "function") {
    throw argumentError("type", `The condition of waitUntil() must be a function, not ${typeof condition}`);
  }
}

/**
 * A notifier with a sequence number. The pattern that never misses a
 * wake-up: read `sequence` FIRST, then check your condition in shared
 * memory, and only if it is false `wait(sequence)`; the notifier changes the
 * shared memory first, then calls `notify()`. `waitUntil(condition)` does
 * exactly that loop. Wake-ups can be spurious, and `notify()` may release
 * more than one waiter: always re-check the condition.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/event-example", { size: 65536 });
 * const changed = segment.event("changed");
 * const flag = new Int32Array(segment.memory.buffer, segment.bytes("flag", 4).byteOffset, 1);
 * // In the notifying process:
 * Atomics.store(flag, 0, 1);
 * changed.notifyAll();
 * // In a waiting process:
 * changed.waitUntil(() => Atomics.load(flag, 0) === 1, { timeoutMs: 1000 });
 * segment.unlink();
 * ```
 */
export class Event {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  readonly #timedOut: number;
  readonly #mode: WaitMode;
  readonly #words: Int32Array;

  /** @internal Use the Segment accessor (`segment.event(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    spinsFor(segment.constants, wait);
    this.#mode = wait;
    this.#words = new Int32Array(segment.memory.buffer);
    this.#timedOut = -segment.constants.TIMED_OUT;
  }

  /** @internal Opens (or creates) the event `name` of `map`: Segment.event(). */
  static open(map: Mapping, name: string, options: WaitingObjectOptions = {}): Event {
    map.checkAccess(name, options, "event", options?.wait ?? "adaptive");
    return map.cached(`event:${name}`, () => {
      const found = map.findOrCreate(map.constants.KIND_EVENT, name, options);
      return new Event(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #spins(options: LockOptions | undefined): number {
    return spinsFor(this.segment.constants, options?.wait ?? this.#mode);
  }

  #timeout(timeoutMs: number): WshmError {
    return new WshmError(
      "Timeout",
      `Cannot wait on event "${this.name}": timed out after ${timeoutMs} ms`,
    );
  }

  /** The current sequence number (an unsigned 32-bit counter of notifies that wraps). */
  get sequence(): number {
    return this.segment.core.eventSequence(this.handle) >>> 0;
  }

  /** True if a notify came after `sequence` was read (never waits). */
  tryWait(sequence: number): boolean {
    return this.sequence !== (checkSequence(sequence) >>> 0);
  }

  /**
   * Sleeps until the sequence differs from `sequence` (returns at once if it
   * does already), as long as `timeoutMs` allows; throws `Timeout`. Blocks
   * this thread.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/event-wait", { size: 65536 });
   * const event = segment.event("e");
   * const seen = event.sequence;
   * event.notify();
   * event.wait(seen, { timeoutMs: 100 }); // returns at once: a notify came after `seen`
   * segment.unlink();
   * ```
   */
  wait(sequence: number, options?: LockOptions): void {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const status = this.segment.core.eventWait(
      this.handle,
      checkSequence(sequence),
      timeoutMs,
      this.#spins(options),
    );
    if (status === this.#timedOut) throw this.#timeout(timeoutMs);
    if (status !== this.segment.constants.OK) {
      throw statusError(status, `Cannot wait on event "${this.name}"`);
    }
  }

  /**
   * The same wait without blocking the event loop.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/event-wait-async", { size: 65536 });
   * const event = segment.event("e");
   * const seen = event.sequence;
   * setTimeout(() => event.notify(), 10);
   * await event.waitAsync(seen, { timeoutMs: 1000 });
   * segment.unlink();
   * ```
   */
  async waitAsync(sequence: number, options?: LockOptions): Promise<void> {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const seq = checkSequence(sequence);
    const mode = options?.wait ?? this.#mode;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    let status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => core.eventWaitStep(this.handle, seq, 0, flags),
      () => core.eventWaitCancel(this.handle, seq),
      timeoutMs,
      mode,
    );
    // A notify that raced the time-out still counts: report what is true now.
    if (status === this.#timedOut && (core.eventSequence(this.handle) | 0) !== (seq | 0)) {
      status = this.segment.constants.OK;
    }
    if (status === this.#timedOut) throw this.#timeout(timeoutMs);
    if (status < 0) throw statusError(status, `Cannot wait on event "${this.name}"`);
  }

  /**
   * Waits until `condition()` returns true, re-checking it after every
   * notify; throws `Timeout` if it is still false after `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/event-until", { size: 65536 });
   * const event = segment.event("e");
   * let ready = true; // really: a value in shared memory
   * event.waitUntil(() => ready, { timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  waitUntil(condition: () => boolean, options?: LockOptions): void {
    checkCallOptions(options);
    checkCondition(condition);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    while (true) {
      const seen = this.sequence;
      if (condition()) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.#timeout(timeoutMs);
      const status = this.segment.core.eventWait(
        this.handle,
        seen | 0,
        remaining === Infinity ? -1 : remaining,
        this.#spins(options),
      );
      if (status === this.#timedOut && condition()) return;
    }
  }

  /** `waitUntil` without blocking the event loop. */
  async waitUntilAsync(condition: () => boolean, options?: LockOptions): Promise<void> {
    checkCallOptions(options);
    checkCondition(condition);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    while (true) {
      const seen = this.sequence;
      if (condition()) return;
      const remaining = deadline - performance.now();
      if (remaining <= 0) throw this.#timeout(timeoutMs);
      try {
        await this.waitAsync(seen, { timeoutMs: remaining, wait: options?.wait });
      } catch (error) {
        if (!(error instanceof WshmError && error.code === "Timeout")) throw error;
      }
    }
  }

  /** Advances the sequence and wakes one sleeper (perhaps more); returns how many woke. */
  notify(): number {
    return this.segment.core.eventNotify(this.handle, 1);
  }

  /** Advances the sequence and wakes every sleeper; returns how many woke. */
  notifyAll(): number {
    return this.segment.core.eventNotify(this.handle, 0x7FFFFFFF);
  }

  /** How many waiters are registered as sleeping now (for inspection). */
  get sleepers(): number {
    return this.segment.core.eventSleepers(this.handle) >>> 0;
  }
}
