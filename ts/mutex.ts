/**
 * A robust mutex in a segment, shared by every process that maps it.
 *
 * @module
 */

import type { Mapping, WaitingObjectOptions } from "./mapping.ts";
import { WshmError } from "./errors.ts";
import { statusError } from "./status.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions } from "./names.ts";

/** Options of the blocking and async lock calls (mutex, semaphore, rwlock, event). */
export interface LockOptions {
  /** Give up (with a `Timeout` error) after this many milliseconds; default: wait forever. */
  timeoutMs?: number;
  /** This call's wait mode (default: the lock's, itself "adaptive" unless given when it was opened). */
  wait?: WaitMode;
}

/**
 * Proof of holding a mutex; disposing it unlocks. `ownerDied` is true when the
 * lock was taken over from a process that died holding it: repair what the
 * lock protects, then call `consistent()` before unlocking, or the mutex
 * becomes NotRecoverable for everybody.
 */
export class MutexGuard implements Disposable {
  /** True if the previous holder died while holding the lock. */
  ownerDied = false;
  readonly #mutex: Mutex;

  /** @internal Made by its object, never by users. */
  constructor(mutex: Mutex) {
    this.#mutex = mutex;
  }

  /** Marks the protected state as repaired after `ownerDied`. */
  consistent(): void {
    this.#mutex.consistent();
    this.ownerDied = false;
  }

  /** Releases the lock. */
  unlock(): void {
    this.#mutex.unlock();
  }

  [Symbol.dispose](): void {
    this.#mutex.unlock();
  }
}

/**
 * A futex-based mutex: uncontended lock and unlock stay inside the core
 * without a syscall; a contended locker spins briefly, then sleeps.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/mutex-example", { size: 65536 });
 * const mutex = segment.mutex("jobs");
 * {
 *   using held = mutex.lock({ timeoutMs: 1000 });
 *   if (held.ownerDied) held.consistent();
 *   // ... critical section ...
 * }
 * segment.unlink();
 * ```
 */
export class Mutex {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  readonly #guard: MutexGuard;
  readonly #wait: WaitMode;
  // The core's spins for #wait, worked out once: lock() runs on every acquisition.
  readonly #spins: number;
  readonly #words: Int32Array;
  // Bound once: these run on every lock and unlock.
  readonly #lock: (handle: number, timeoutMs: number, spins: number) => number;
  readonly #unlock: (handle: number) => number;
  readonly #ok: number;
  readonly #ownerDied: number;

  /** @internal Use the Segment accessor (`segment.mutex(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.#spins = spinsFor(segment.constants, wait);
    this.#wait = wait;
    this.#words = new Int32Array(segment.memory.buffer);
    this.#guard = new MutexGuard(this);
    this.#lock = segment.core.mutexLock;
    this.#unlock = segment.core.mutexUnlock;
    this.#ok = segment.constants.OK;
    this.#ownerDied = segment.constants.OWNER_DIED;
  }

  /** @internal Opens (or creates) the mutex `name` of `map`: Segment.mutex(). */
  static open(map: Mapping, name: string, options: WaitingObjectOptions = {}): Mutex {
    map.checkAccess(name, options, "mutex", options?.wait ?? "adaptive");
    return map.cached(`mutex:${name}`, () => {
      const found = map.findOrCreate(map.constants.KIND_MUTEX, name, options);
      return new Mutex(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #held(status: number, what: string): MutexGuard {
    if (status === this.#ok) {
      this.#guard.ownerDied = false;
      return this.#guard;
    }
    if (status === this.#ownerDied) {
      this.#guard.ownerDied = true;
      return this.#guard;
    }
    throw statusError(status, `Cannot ${what} mutex "${this.name}"`);
  }

  /**
   * Acquires the mutex, waiting as long as `timeoutMs` allows. Throws
   * `Timeout` or `NotRecoverable`. The guard is reused: one per Mutex.
   */
  lock(options?: LockOptions): MutexGuard {
    checkCallOptions(options);
    const spins = options?.wait === undefined ? this.#spins : spinsFor(this.segment.constants, options.wait);
    const status = this.#lock(this.handle, timeoutOption(options?.timeoutMs), spins);
    return this.#held(status, "lock");
  }

  /** Acquires the mutex if it is free now; null if another holds it. */
  tryLock(): MutexGuard | null {
    const status = this.segment.core.mutexTryLock(this.handle);
    if (status === -this.segment.constants.WOULD_BLOCK) return null;
    return this.#held(status, "lock");
  }

  /** Acquires the mutex without blocking the event loop. */
  async lockAsync(options?: LockOptions): Promise<MutexGuard> {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const mode = options?.wait ?? this.#wait;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    const status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => core.mutexLockStep(this.handle, 0, 0, flags),
      () => core.mutexLockCancel(this.handle, 0),
      timeoutMs,
      mode,
    );
    return this.#held(status, "lock");
  }

  /** Releases the mutex; throws `NotOwner` if this process does not hold it. */
  unlock(): void {
    const status = this.#unlock(this.handle);
    if (status !== this.#ok) throw statusError(status, `Cannot unlock mutex "${this.name}"`);
  }

  /** After an `ownerDied` acquisition: the protected state is repaired. */
  consistent(): void {
    const status = this.segment.core.mutexConsistent(this.handle);
    if (status !== this.#ok) {
      throw statusError(status, `Cannot mark mutex "${this.name}" consistent`);
    }
  }

  /** The pid of the holder, 0 when free. Throws NotRecoverable for a dead lock. */
  get holder(): number {
    const pid = this.segment.core.mutexHolder(this.handle);
    if (pid < 0) throw new WshmError("NotRecoverable", `Mutex "${this.name}" is not recoverable`);
    return pid;
  }
}
