/**
 * The producer side of a ring: claims of room (to fill in place, one at a
 * time or many at once), commits that publish them, and the copying sends
 * built on the two. Not part of the public API: {@linkcode Ring} calls it.
 *
 * @module
 */

import type { Endpoint } from "./endpoint.ts";
import type { RingRole } from "./ring_role.ts";
import { argumentError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { timeoutOption } from "./wait.ts";
import { checkLength, checkType, type RingSendOptions } from "./ring_record.ts";

/** @internal The producer operations of one ring handle. */
export class RingProducer {
  readonly #end: Endpoint;
  readonly #role: RingRole;
  // Bound once: these run for every message.
  readonly #claim: (handle: number, length: number, type: number) => number;
  readonly #commit: (handle: number) => number;

  constructor(end: Endpoint, role: RingRole) {
    this.#end = end;
    this.#role = role;
    this.#claim = end.core.ringClaim;
    this.#commit = end.core.ringCommit;
  }

  #noRoom(length: number): never {
    throw argumentError(
      "range",
      `Cannot claim ${length} bytes in ring "${this.#end.name}": the uncommitted claims leave no room; commit() first`,
    );
  }

  tryClaimAt(length: number, type: number): number {
    this.#role.ensure();
    // Integers the core takes as they are; anything else (NaN, -1, 1.5) is misuse.
    if ((length >>> 0) !== length || (type >>> 0) !== type) {
      checkLength(length);
      checkType(type);
    }
    const r = this.#claim(this.#end.handle, length, type);
    if (r >= 0) return r;
    if (r === -this.#end.k.FULL) return -1;
    checkLength(length);
    checkType(type);
    this.#end.fail(r, `claim ${length} bytes in`);
  }

  claimAt(length: number, options: RingSendOptions | undefined): number {
    checkCallOptions(options);
    this.#role.ensure();
    const type = options?.type ?? 0;
    checkLength(length);
    checkType(type);
    const end: Endpoint = this.#end;
    const spins = end.spins(options);
    const r = end.core.ringClaimWait(end.handle, length, type, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return r;
    if (r === -end.k.FULL) this.#noRoom(length);
    end.fail(r, `claim ${length} bytes in`);
  }

  /** Claims without blocking the event loop; with a `message`, fills and commits it inside the claiming step. */
  async claimAsync(
    length: number,
    options: RingSendOptions | undefined,
    message: Message | null,
  ): Promise<number> {
    this.#role.ensure();
    const type = options?.type ?? 0;
    checkLength(length);
    checkType(type);
    const end: Endpoint = this.#end;
    const core = end.core;
    // Fill and commit inside the step that claimed, so no other task can commit a half-filled record.
    const step = (flags: number) => {
      const r = core.ringClaimStep(end.handle, length, type, flags);
      if (r >= 0 && message !== null) {
        writeMessage(end.bytes, r, message);
        this.#commit(end.handle);
      }
      return r;
    };
    const r = await end.waitAsync(step, () => core.ringCancelWait(end.handle, end.k.ROLE_PRODUCER), options);
    if (r >= 0) return r;
    if (r === -end.k.FULL) this.#noRoom(length);
    end.fail(r, `claim ${length} bytes in`);
  }

  /** Claims up to `count` records of `length` bytes; how many (their first payload and stride in the scratch). */
  tryClaimMany(count: number, length: number, type: number): number {
    this.#role.ensure();
    checkInteger(count, "count", 0, 0x7FFFFFFF);
    checkLength(length);
    checkType(type);
    const end: Endpoint = this.#end;
    const r = end.core.ringClaimMany(end.handle, count, length, type);
    if (r > 0) return r;
    if (r === -end.k.FULL || r === 0) return 0;
    checkLength(length);
    checkType(type);
    end.fail(r, `claim ${length} bytes in`);
  }

  commit(): number {
    const r = this.#commit(this.#end.handle);
    if (r >= 0) return r;
    this.#end.fail(r, "commit to");
  }

  abort(): void {
    this.#end.core.ringAbort(this.#end.handle);
  }

  trySend(message: Message, type: number): boolean {
    const length = messageLength(message);
    const at = this.tryClaimAt(length, type);
    if (at < 0) return false;
    writeMessage(this.#end.bytes, at, message);
    this.#commit(this.#end.handle);
    return true;
  }

  send(message: Message, options: RingSendOptions | undefined): void {
    checkCallOptions(options);
    const length = messageLength(message);
    const at = this.claimAt(length, options);
    writeMessage(this.#end.bytes, at, message);
    this.#commit(this.#end.handle);
  }

  async sendAsync(message: Message, options: RingSendOptions | undefined): Promise<void> {
    checkCallOptions(options);
    if (this.trySend(message, options?.type ?? 0)) return;
    await this.claimAsync(messageLength(message), options, message);
  }
}
