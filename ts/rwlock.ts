/**
 * A robust reader-writer lock in a segment, shared by every process that maps it.
 *
 * @module
 */

import type { Mapping, WaitingObjectOptions } from "./mapping.ts";
import type { LockOptions } from "./mutex.ts";
import { WshmError } from "./errors.ts";
import { statusError } from "./status.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { RwLockReadGuard, RwLockWriteGuard } from "./rwlock_guard.ts";

export { RwLockReadGuard, RwLockWriteGuard } from "./rwlock_guard.ts";

/**
 * Many readers or one writer. A writer that is waiting keeps new readers out,
 * so writers never starve. A reader that dies is forgotten by the next writer
 * that finds it gone; a writer that dies is taken over with `ownerDied`, like
 * a robust mutex (see docs/locks.md).
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/rwlock-example", { size: 65536 });
 * const config = segment.rwlock("config");
 * {
 *   using held = config.write({ timeoutMs: 1000 });
 *   if (held.ownerDied) held.consistent(); // after repairing
 *   // ... change the shared configuration ...
 * }
 * {
 *   using held = config.read({ timeoutMs: 1000 });
 *   // ... read it, while other processes may read too ...
 * }
 * segment.unlink();
 * ```
 */
// Each async lock call gets its own token, so that the core can tell which
// call of this process holds a writer claim that is still draining
// (wasm/rwlock/rwlock.ts). 0 and 0xFFFFFFFF are not used: the core's own.
let nextToken = 0;

function callToken(): number {
  nextToken = nextToken >= 0xFFFFFFFD ? 1 : nextToken + 1;
  return nextToken;
}

/** Options of {@linkcode Segment.rwlock}. */
export interface RwLockOptions extends WaitingObjectOptions {
  /** Processes that can read at once (default 32, at most 4096; each costs 64 bytes). Ignored if it exists. */
  readers?: number;
}

export class RwLock {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  readonly #readGuard: RwLockReadGuard;
  readonly #writeGuard: RwLockWriteGuard;
  readonly #ok: number;
  readonly #ownerDied: number;
  readonly #wouldBlock: number;
  readonly #mode: WaitMode;
  readonly #words: Int32Array;

  /** @internal Use the Segment accessor (`segment.rwLock(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    spinsFor(segment.constants, wait);
    this.#mode = wait;
    this.#words = new Int32Array(segment.memory.buffer);
    this.#readGuard = new RwLockReadGuard(this, false);
    this.#writeGuard = new RwLockWriteGuard(this);
    this.#ok = segment.constants.OK;
    this.#ownerDied = segment.constants.OWNER_DIED;
    this.#wouldBlock = -segment.constants.WOULD_BLOCK;
  }

  /** @internal Opens (or creates) the rwlock `name` of `map`: Segment.rwlock(). */
  static open(map: Mapping, name: string, options: RwLockOptions = {}): RwLock {
    const k = map.constants;
    map.checkAccess(name, options, "rwlock", options?.wait ?? "adaptive");
    const readers = options.readers ?? k.RWLOCK_DEFAULT_READERS;
    checkInteger(
      readers,
      "readers",
      1,
      k.RWLOCK_MAX_READERS,
      `an integer from 1 to ${k.RWLOCK_MAX_READERS} for rwlock "${name}"`,
    );
    return map.cached(`rwlock:${name}`, () => {
      const found = map.findOrCreate(k.KIND_RWLOCK, name, options, readers);
      return new RwLock(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #spins(options: LockOptions | undefined): number {
    return spinsFor(this.segment.constants, options?.wait ?? this.#mode);
  }

  #reading(status: number): RwLockReadGuard {
    if (status === this.#ok) return this.#readGuard;
    if (status === this.#ownerDied) return new RwLockReadGuard(this, true);
    throw statusError(status, `Cannot read-lock rwlock "${this.name}"`);
  }

  #writing(status: number): RwLockWriteGuard {
    if (status === this.#ok || status === this.#ownerDied) {
      this.#writeGuard.ownerDied = status === this.#ownerDied;
      return this.#writeGuard;
    }
    throw statusError(status, `Cannot write-lock rwlock "${this.name}"`);
  }

  /** Drives one lock call's steps without blocking the event loop; a time-out gives a writer claim up. */
  async #steps(write: boolean, options: LockOptions | undefined): Promise<number> {
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const mode = options?.wait ?? this.#mode;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    const token = callToken();
    const step = write ? core.rwlockWriteStep : core.rwlockReadStep;
    const cancel = () => core.rwlockLockCancel(this.handle, token);
    const status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => step(this.handle, token, 0, flags),
      cancel,
      timeoutMs,
      mode,
    );
    // The driver cancels only parked steps' registrations; a writer claim a
    // probing step made (timeout 0, spinning) is given up here (a no-op otherwise).
    if (status < 0) cancel();
    return status;
  }

  /**
   * Takes a read hold, waiting while a writer holds or waits, as long as
   * `timeoutMs` allows (default: forever); throws `Timeout` or `NotRecoverable`.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/rwlock-read", { size: 65536 });
   * using held = segment.rwlock("table").read({ timeoutMs: 500 });
   * segment.unlink();
   * ```
   */
  read(options?: LockOptions): RwLockReadGuard {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    return this.#reading(this.segment.core.rwlockRead(this.handle, timeoutMs, this.#spins(options)));
  }

  /** Takes a read hold if no writer holds or waits; null otherwise. */
  tryRead(): RwLockReadGuard | null {
    const status = this.segment.core.rwlockTryRead(this.handle);
    return status === this.#wouldBlock ? null : this.#reading(status);
  }

  /**
   * Takes a read hold without blocking the event loop.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/rwlock-read-async", { size: 65536 });
   * using held = await segment.rwlock("table").readAsync({ timeoutMs: 500 });
   * segment.unlink();
   * ```
   */
  async readAsync(options?: LockOptions): Promise<RwLockReadGuard> {
    checkCallOptions(options);
    const first = this.segment.core.rwlockTryRead(this.handle);
    if (first !== this.#wouldBlock) return this.#reading(first);
    return this.#reading(await this.#steps(false, options));
  }

  /**
   * Takes the write lock, waiting for the writer before and for every reader
   * to leave, as long as `timeoutMs` allows; throws `Timeout` or `NotRecoverable`.
   *
   * @example
   * ```ts
   * import { Segment } from "wshm";
   * using segment = Segment.create("/rwlock-write", { size: 65536 });
   * using held = segment.rwlock("table").write({ timeoutMs: 500 });
   * if (held.ownerDied) held.consistent();
   * segment.unlink();
   * ```
   */
  write(options?: LockOptions): RwLockWriteGuard {
    checkCallOptions(options);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    return this.#writing(this.segment.core.rwlockWrite(this.handle, timeoutMs, this.#spins(options)));
  }

  /** Takes the write lock if nobody holds the lock now; null otherwise. */
  tryWrite(): RwLockWriteGuard | null {
    const status = this.segment.core.rwlockTryWrite(this.handle);
    return status === this.#wouldBlock ? null : this.#writing(status);
  }

  /** Takes the write lock without blocking the event loop. */
  async writeAsync(options?: LockOptions): Promise<RwLockWriteGuard> {
    checkCallOptions(options);
    const first = this.segment.core.rwlockTryWrite(this.handle);
    if (first !== this.#wouldBlock) return this.#writing(first);
    return this.#writing(await this.#steps(true, options));
  }

  /** Releases one read hold of this process; throws `NotOwner` if it has none. */
  readUnlock(): void {
    const status = this.segment.core.rwlockReadUnlock(this.handle);
    if (status !== this.#ok) throw statusError(status, `Cannot read-unlock rwlock "${this.name}"`);
  }

  /** Releases the write lock (or an exclusive `ownerDied` read hold); throws `NotOwner`. */
  writeUnlock(): void {
    const status = this.segment.core.rwlockWriteUnlock(this.handle);
    if (status !== this.#ok) throw statusError(status, `Cannot write-unlock rwlock "${this.name}"`);
  }

  /** After an `ownerDied` acquisition: the protected state is repaired. */
  consistent(): void {
    const status = this.segment.core.rwlockConsistent(this.handle);
    if (status !== this.#ok) {
      throw statusError(status, `Cannot mark rwlock "${this.name}" consistent`);
    }
  }

  /** The pid of the writer holding or waiting for readers to leave, 0 if none. Throws NotRecoverable. */
  get writer(): number {
    const pid = this.segment.core.rwlockWriter(this.handle);
    if (pid < 0) throw new WshmError("NotRecoverable", `RwLock "${this.name}" is not recoverable`);
    return pid;
  }

  /** The number of read holds now, over all processes (for inspection). */
  get readers(): number {
    return this.segment.core.rwlockReaders(this.handle);
  }

  /** How many processes can hold read locks at once (set at creation). */
  get readerSlots(): number {
    return this.segment.core.rwlockReaderSlots(this.handle);
  }
}
