/**
 * A counting semaphore in a segment, shared by every process that maps it.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import type { LockOptions } from "./mutex.ts";
import { statusError } from "./status.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger } from "./names.ts";

/**
 * Options of {@linkcode Segment.semaphore}.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/semaphore-options", { size: 65536 });
 * const pool = segment.semaphore("connections", { initial: 8, maximum: 8 });
 * segment.unlink();
 * ```
 */
export interface SemaphoreOptions {
  /** The value at creation; default 0. Ignored when the semaphore exists already. */
  initial?: number;
  /** A post beyond this fails with `Overflow`; default 2^31 - 1. Ignored when it exists already. */
  maximum?: number;
  /** Create it if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/**
 * One permit taken from a semaphore. Disposing it (or `release()`) posts one
 * permit back, for the common "at most N at once" use; a signalling use
 * simply ignores it. Permits are not owned: if the process dies holding one,
 * that permit is gone (see docs/locks.md).
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/permit-example", { size: 65536 });
 * const slots = segment.semaphore("slots", { initial: 4 });
 * {
 *   using _permit = slots.wait({ timeoutMs: 1000 });
 *   // ... at most 4 processes are here at once ...
 * }
 * segment.unlink();
 * ```
 */
export class SemaphorePermit implements Disposable {
  readonly #semaphore: Semaphore;

  /** @internal Made by its object, never by users. */
  constructor(semaphore: Semaphore) {
    this.#semaphore = semaphore;
  }

  /** Posts the permit back. */
  release(): void {
    this.#semaphore.post(1);
  }

  [Symbol.dispose](): void {
    this.#semaphore.post(1);
  }
}

/**
 * A counting semaphore: `wait` takes a permit (sleeping while there is none),
 * `post` adds permits and wakes sleepers. No post is ever lost, and a post
 * costs no syscall while nobody sleeps.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/semaphore-example", { size: 65536 });
 * const ready = segment.semaphore("ready", { initial: 0, maximum: 100 });
 * ready.post();                     // another process would usually do this
 * ready.wait({ timeoutMs: 1000 });  // takes it; ignores the permit guard
 * console.log(ready.value);         // 0
 * segment.unlink();
 * ```
 */
export class Semaphore {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  readonly #permit: SemaphorePermit;
  readonly #mode: WaitMode;
  readonly #words: Int32Array;
  readonly #wait: (handle: number, timeoutMs: number, spins: number) => number;
  readonly #tryWait: (handle: number) => number;
  readonly #post: (handle: number, count: number) => number;
  readonly #ok: number;

  /** @internal Use the Segment accessor (`segment.semaphore(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    spinsFor(segment.constants, wait);
    this.#mode = wait;
    this.#words = new Int32Array(segment.memory.buffer);
    this.#permit = new SemaphorePermit(this);
    this.#wait = segment.core.semaphoreWait;
    this.#tryWait = segment.core.semaphoreTryWait;
    this.#post = segment.core.semaphorePost;
    this.#ok = segment.constants.OK;
  }

  /** @internal Opens (or creates) the semaphore `name` of `map`: Segment.semaphore(). */
  static open(map: Mapping, name: string, options: SemaphoreOptions = {}): Semaphore {
    map.checkAccess(name, options, "semaphore", options?.wait ?? "adaptive");
    const k = map.constants;
    const initial = options.initial ?? 0;
    const maximum = options.maximum ?? k.SEMAPHORE_VALUE_MAX;
    checkInteger(
      maximum,
      "maximum",
      1,
      k.SEMAPHORE_VALUE_MAX,
      `an integer from 1 to 2^31 - 1 for semaphore "${name}"`,
    );
    checkInteger(
      initial,
      "initial value",
      0,
      maximum,
      `an integer from 0 to ${maximum} (its maximum) for semaphore "${name}"`,
    );
    return map.cached(`semaphore:${name}`, () => {
      const found = map.findOrCreate(k.KIND_SEMAPHORE, name, options, initial, maximum);
      return new Semaphore(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #taken(status: number): SemaphorePermit {
    if (status === this.#ok) return this.#permit;
    throw statusError(status, `Cannot wait on semaphore "${this.name}"`);
  }

  /**
   * Takes a permit, sleeping while there is none, as long as `timeoutMs`
   * allows (default: forever); throws `Timeout`. Blocks this thread.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/semaphore-wait", { size: 65536 });
   * const jobs = segment.semaphore("jobs", { initial: 1 });
   * jobs.wait({ timeoutMs: 100 });
   * segment.unlink();
   * ```
   */
  wait(options?: LockOptions): SemaphorePermit {
    checkCallOptions(options);
    const spins = spinsFor(this.segment.constants, options?.wait ?? this.#mode);
    return this.#taken(this.#wait(this.handle, timeoutOption(options?.timeoutMs), spins));
  }

  /** Takes a permit if one is available now; null if none is. */
  tryWait(): SemaphorePermit | null {
    const status = this.#tryWait(this.handle);
    if (status === -this.segment.constants.WOULD_BLOCK) return null;
    return this.#taken(status);
  }

  /**
   * Takes a permit without blocking the event loop: the sleep runs off the
   * JavaScript thread. Rejects with `Timeout` after `timeoutMs`.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/semaphore-async", { size: 65536 });
   * const done = segment.semaphore("done");
   * setTimeout(() => done.post(), 10);
   * await done.waitAsync({ timeoutMs: 1000 });
   * segment.unlink();
   * ```
   */
  async waitAsync(options?: LockOptions): Promise<SemaphorePermit> {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const mode = options?.wait ?? this.#mode;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    const status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => core.semaphoreWaitStep(this.handle, 0, 0, flags),
      () => core.semaphoreWaitCancel(this.handle, 0),
      timeoutMs,
      mode,
    );
    return this.#taken(status);
  }

  /**
   * Adds `count` permits (default 1) and wakes as many sleepers. Throws
   * `Overflow` (and adds nothing) if the value would pass the maximum.
   */
  post(count = 1): void {
    if ((count >>> 0) !== count || count === 0 || count > 0x7FFFFFFF) {
      checkInteger(count, "count", 1, 0x7FFFFFFF, "an integer from 1 to 2^31 - 1");
    }
    let status = this.#post(this.handle, count);
    // -WOULD_BLOCK: the value kept changing under thousands of rounds (a
    // peer flipping it); try a few more times, then report it.
    for (let i = 0; i < 8 && status === -this.segment.constants.WOULD_BLOCK; i++) {
      status = this.#post(this.handle, count);
    }
    if (status !== this.#ok) throw statusError(status, `Cannot post ${count} to semaphore "${this.name}"`);
  }

  /** The permits available now (stale as soon as read; for inspection). */
  get value(): number {
    return this.segment.core.semaphoreValue(this.handle) >>> 0;
  }

  /** The maximum given at creation. */
  get maximum(): number {
    return this.segment.core.semaphoreMaximum(this.handle) >>> 0;
  }

  /** How many waiters are registered as sleeping now (for inspection). */
  get sleepers(): number {
    return this.segment.core.semaphoreSleepers(this.handle) >>> 0;
  }
}
