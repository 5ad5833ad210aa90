/**
 * The consumer side of a ring: records read in place (one at a time or a
 * batch), released to the producer, and the copying receives built on the
 * two. Not part of the public API: {@linkcode Ring} calls it.
 *
 * @module
 */

import { type Endpoint, receiveAsync } from "./endpoint.ts";
import type { RingRole } from "./ring_role.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { timeoutOption } from "./wait.ts";
import { RingRecord, type RingWaitOptions } from "./ring_record.ts";

/** @internal The consumer operations of one ring handle. */
export class RingConsumer {
  readonly #end: Endpoint;
  readonly #role: RingRole;
  readonly #record: RingRecord;
  // Bound once: these run for every message.
  readonly #read: (handle: number) => number;
  readonly #release: (handle: number) => number;
  readonly #releaseAll = () => this.#release(this.#end.handle);

  constructor(end: Endpoint, role: RingRole) {
    this.#end = end;
    this.#role = role;
    this.#record = new RingRecord({ bytes: end.bytes, release: () => this.release() });
    this.#read = end.core.ringRead;
    this.#release = end.core.ringRelease;
  }

  #fill(payload: number): RingRecord {
    return this.#end.fill(this.#record, payload);
  }

  tryRead(): RingRecord | null {
    this.#role.ensure();
    const r = this.#read(this.#end.handle);
    if (r >= 0) return this.#fill(r);
    if (r === -this.#end.k.EMPTY) return null;
    this.#end.fail(r, "read from");
  }

  read(options: RingWaitOptions | undefined): RingRecord {
    checkCallOptions(options);
    this.#role.ensure();
    const end: Endpoint = this.#end;
    const spins = end.spins(options);
    const r = end.core.ringReadWait(end.handle, 0, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return this.#fill(r);
    end.fail(r, "read from");
  }

  async readAsync(options: RingWaitOptions | undefined, copy: boolean): Promise<RingRecord | Uint8Array> {
    checkCallOptions(options);
    this.#role.ensure();
    const end: Endpoint = this.#end;
    const core = end.core;
    const r = await end.readAsync(
      (flags) => core.ringReadStep(end.handle, 0, 0, flags),
      () => core.ringCancelWait(end.handle, end.k.ROLE_CONSUMER),
      this.#releaseAll,
      options,
      copy,
    );
    return typeof r === "number" ? this.#fill(r) : r;
  }

  readMany(max: number, options: RingWaitOptions | undefined): number {
    checkCallOptions(options);
    const end: Endpoint = this.#end;
    // The core takes max as a u32: -1 would be "all", NaN 0 and 2^32 + 1 would be 1.
    if ((max >>> 0) !== max || max === 0 || max > 0x7FFFFFFF) {
      checkInteger(
        max,
        "max",
        1,
        0x7FFFFFFF,
        `an integer >= 1 (at most ${end.k.RING_BATCH_MAX} come at once)`,
      );
    }
    this.#role.ensure();
    let r: number;
    if (options === undefined) {
      r = end.core.ringReadMany(end.handle, max);
      if (r === -end.k.EMPTY) return 0;
    } else {
      const spins = end.spins(options);
      r = end.core.ringReadWait(end.handle, Math.max(1, max), timeoutOption(options.timeoutMs), spins);
    }
    if (r >= 0) return r;
    end.fail(r, "read from");
  }

  release(): void {
    const r = this.#releaseAll();
    if (r < 0) this.#end.fail(r, "release in");
  }

  tryReceive(): Uint8Array | null {
    return this.#end.copyOut(this.tryRead(), this.#releaseAll);
  }

  receive(options: RingWaitOptions | undefined): Uint8Array {
    checkCallOptions(options);
    return this.#end.copyOut(this.read(options), this.#releaseAll)!;
  }

  receiveAsync(options: RingWaitOptions | undefined): Promise<Uint8Array> {
    return receiveAsync(options, () => this.tryReceive(), () => this.readAsync(options, true));
  }
}
