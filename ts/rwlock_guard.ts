/**
 * The guards of a reader-writer lock: the proof of a read or write hold that
 * releases it when disposed.
 *
 * @module
 */

/**
 * @internal What a guard calls on its lock: declared here, so that this
 * module does not import rwlock.ts (which imports it).
 */
export interface HeldLock {
  readUnlock(): void;
  writeUnlock(): void;
  consistent(): void;
}

/**
 * Proof of a read hold; disposing it releases the hold. When `ownerDied` is
 * true, a writer died holding the lock and this process took it over
 * EXCLUSIVELY (`exclusive` is true) so that it can repair what the lock
 * protects: repair, call `consistent()`, then release, or the lock becomes
 * NotRecoverable for everybody.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/read-guard", { size: 65536 });
 * {
 *   using held = segment.rwlock("table").read({ timeoutMs: 1000 });
 *   if (held.ownerDied) {
 *     // held.exclusive is true: nobody else reads while we repair
 *     held.consistent();
 *   }
 * }
 * segment.unlink();
 * ```
 */
export class RwLockReadGuard implements Disposable {
  /** True if a writer died holding the lock; this hold is then exclusive. */
  ownerDied: boolean;
  /** True if this hold excludes every other reader and writer (only after `ownerDied`). */
  readonly exclusive: boolean;
  readonly #lock: HeldLock;

  /** @internal Made by its object, never by users. */
  constructor(lock: HeldLock, exclusive: boolean) {
    this.#lock = lock;
    this.exclusive = exclusive;
    this.ownerDied = exclusive;
  }

  /** Marks the protected state as repaired after `ownerDied`. */
  consistent(): void {
    this.#lock.consistent();
    this.ownerDied = false;
  }

  /** Releases this hold. */
  unlock(): void {
    if (this.exclusive) this.#lock.writeUnlock();
    else this.#lock.readUnlock();
  }

  [Symbol.dispose](): void {
    this.unlock();
  }
}

/**
 * Proof of holding the write lock; disposing it unlocks. `ownerDied` as for
 * a mutex: repair, `consistent()`, then unlock.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/write-guard", { size: 65536 });
 * const held = segment.rwlock("table").write({ timeoutMs: 1000 });
 * if (held.ownerDied) held.consistent(); // after repairing the table
 * held.unlock();
 * segment.unlink();
 * ```
 */
export class RwLockWriteGuard implements Disposable {
  /** True if the previous writer died while holding the lock. */
  ownerDied = false;
  readonly #lock: HeldLock;

  /** @internal Made by its object, never by users. */
  constructor(lock: HeldLock) {
    this.#lock = lock;
  }

  /** Marks the protected state as repaired after `ownerDied`. */
  consistent(): void {
    this.#lock.consistent();
    this.ownerDied = false;
  }

  /** Releases the write lock. */
  unlock(): void {
    this.#lock.writeUnlock();
  }

  [Symbol.dispose](): void {
    this.#lock.writeUnlock();
  }
}
