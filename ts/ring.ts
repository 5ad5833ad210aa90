/**
 * A single-producer single-consumer byte ring in a segment: variable-length
 * records written and read in place (zero-copy), batched commits, and a
 * producer crash that never shows the consumer a torn record.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { statusError } from "./status.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import {
  checkLength,
  checkType,
  type RingOptions,
  RingRecord,
  type RingSendOptions,
  type RingStats,
  type RingWaitOptions,
} from "./ring_record.ts";

export { RingRecord } from "./ring_record.ts";
export type { RingOptions, RingSendOptions, RingStats, RingWaitOptions } from "./ring_record.ts";

/**
 * An SPSC ring. One process at a time is its producer and one its consumer
 * (each role is taken on first use, or by `attachProducer()` /
 * `attachConsumer()`, and taken over if its holder died).
 *
 * Producer: `send()` copies a message in; `claim()`/`claimAt()` return room
 * to fill in place, published by `commit()` (several claims may share one
 * commit: batching). Consumer: `receive()` copies a message out; `read()`
 * hands out a record in place, freed by `release()` (several reads may share
 * one release). Every call has a `try` form that never waits and returns
 * null/false/-1 when the ring is empty or full, a blocking form with
 * `timeoutMs`, and an async form that never blocks the event loop.
 *
 * A message longer than `maxMessage` throws `TooLarge`. A producer killed
 * between claim and commit leaves nothing the consumer can see; a consumer
 * waiting on an empty ring gets `PeerDied` once, and the next producer
 * carries on.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/ring-example", { size: 1 << 20 });
 * const ring = segment.ring("events", { capacity: 1 << 16 });
 * ring.send("hello", { type: 1 });
 * const view = ring.claim(4);       // zero-copy: fill in place
 * view.set([1, 2, 3, 4]);
 * ring.commit();
 * console.log(new TextDecoder().decode(ring.receive({ timeoutMs: 100 }))); // "hello"
 * const record = ring.read({ timeoutMs: 100 });
 * console.log(record.length, record.bytes); // 4 Uint8Array [1, 2, 3, 4]
 * ring.release();
 * segment.unlink();
 * ```
 */
export class Ring implements Disposable {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  /** Data bytes. */
  readonly capacity: number;
  /** The longest message (capacity / 2 - 8). */
  readonly maxMessage: number;
  /** The segment's bytes: every `at` offset of this API indexes this view. */
  readonly bytes: Uint8Array;
  /** The default wait mode of this handle. */
  wait: WaitMode;
  /**
   * After `readMany()`: (at, length, type) of each record handed out, three
   * numbers per record, valid until the next call into this segment.
   */
  readonly batch: Uint32Array;
  /** After `tryClaimMany()`: where the first claimed payload starts in `bytes`. */
  claimedAt = 0;
  /** After `tryClaimMany()`: the distance between consecutive claimed payloads. */
  claimedStride = 0;
  readonly #record: RingRecord;
  readonly #words: Int32Array;
  readonly #k: Readonly<Record<string, number>>;
  // Bound once: these run for every message.
  readonly #claim: (handle: number, length: number, type: number) => number;
  readonly #commit: (handle: number) => number;
  readonly #read: (handle: number) => number;
  readonly #release: (handle: number) => number;
  #producer = false;
  #consumer = false;

  /** @internal Use the Segment accessor (`segment.ring(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    const core = segment.core;
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.#k = k;
    spinsFor(k, wait);
    this.wait = wait;
    this.capacity = core.ringInfo(handle, k.RING_INFO_CAPACITY);
    this.maxMessage = core.ringMaxPayload(handle);
    if (this.capacity < 0 || this.maxMessage < 0) throw statusError(-k.CORRUPT, `Cannot open ring "${name}"`);
    this.bytes = new Uint8Array(segment.memory.buffer, k.SEGMENT_BASE, segment.size);
    this.batch = new Uint32Array(segment.memory.buffer, core.ringScratch.value, k.RING_BATCH_MAX * 3);
    this.#words = new Int32Array(segment.memory.buffer);
    this.#record = new RingRecord(this);
    this.#claim = core.ringClaim;
    this.#commit = core.ringCommit;
    this.#read = core.ringRead;
    this.#release = core.ringRelease;
  }

  /** @internal Opens (or creates) the ring `name` of `map`: Segment.ring(). */
  static open(map: Mapping, name: string, options: RingOptions = {}): Ring {
    const k = map.constants;
    map.checkAccess(name, options, "ring", options?.wait ?? "adaptive");
    const capacity = options.capacity ?? 65536;
    const powerOfTwo = `a power of two from ${k.RING_MIN_CAPACITY} to 2^30 for ring "${name}"`;
    checkInteger(capacity, "capacity", k.RING_MIN_CAPACITY, k.RING_MAX_CAPACITY, powerOfTwo);
    if ((capacity & (capacity - 1)) !== 0) {
      throw argumentError("range", `Invalid capacity ${capacity}: it must be ${powerOfTwo}`);
    }
    return map.cached(`ring:${name}`, () => {
      const found = map.findOrCreate(k.KIND_RING, name, options, capacity);
      return new Ring(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #fail(status: number, what: string): never {
    throw statusError(-status, `Cannot ${what} ring "${this.name}"`);
  }

  #attach(role: number, what: string): boolean {
    this.segment.assertOpen();
    const status = this.segment.core.ringAttach(this.handle, role);
    if (status === -this.#k.EXISTS) {
      const pid = this.segment.core.ringInfo(
        this.handle,
        role === this.#k.ROLE_PRODUCER ? this.#k.RING_INFO_PRODUCER : this.#k.RING_INFO_CONSUMER,
      );
      throw new WshmError(
        "Exists",
        `Cannot attach as ${what} of ring "${this.name}": process ${pid} is its ${what}`,
      );
    }
    if (status < 0) this.#fail(status, `attach to`);
    return status === this.#k.OWNER_DIED;
  }

  /**
   * Takes the producer role (done on first use anyway). Returns true if the
   * previous producer had died (its uncommitted claim is dropped). Throws
   * `Exists` if a live process is the producer.
   */
  attachProducer(): boolean {
    const recovered = this.#attach(this.#k.ROLE_PRODUCER, "producer");
    this.#producer = true;
    return recovered;
  }

  /**
   * Takes the consumer role (done on first use anyway). Returns true if the
   * previous consumer had died (records it had not released are read again).
   */
  attachConsumer(): boolean {
    const recovered = this.#attach(this.#k.ROLE_CONSUMER, "consumer");
    this.#consumer = true;
    return recovered;
  }

  /** Gives up the roles this handle holds (uncommitted claims are dropped). */
  detach(): void {
    if (this.segment.closed) return;
    if (this.#producer) this.segment.core.ringDetach(this.handle, this.#k.ROLE_PRODUCER);
    if (this.#consumer) this.segment.core.ringDetach(this.handle, this.#k.ROLE_CONSUMER);
    this.#producer = this.#consumer = false;
  }

  [Symbol.dispose](): void {
    this.detach();
  }

  // ── producer ──────────────────────────────────────────────────────────

  /**
   * Claims room for `length` bytes if there is some now: the offset of the
   * payload in `bytes` to fill, or -1 if the ring is full. No allocation.
   */
  tryClaimAt(length: number, type = 0): number {
    if (!this.#producer) this.attachProducer();
    // Integers the core takes as they are; anything else (NaN, -1, 1.5) is misuse.
    if ((length >>> 0) !== length || (type >>> 0) !== type) {
      checkLength(length);
      checkType(type);
    }
    const r = this.#claim(this.handle, length, type);
    if (r >= 0) return r;
    if (r === -this.#k.FULL) return -1;
    checkLength(length);
    checkType(type);
    this.#fail(r, `claim ${length} bytes in`);
  }

  /** Claims room for `length` bytes, waiting for it; returns the payload's offset in `bytes`. */
  claimAt(length: number, options?: RingSendOptions): number {
    checkCallOptions(options);
    if (!this.#producer) this.attachProducer();
    const type = options?.type ?? 0;
    checkLength(length);
    checkType(type);
    const spins = spinsFor(this.#k, options?.wait ?? this.wait);
    const r = this.segment.core.ringClaimWait(
      this.handle,
      length,
      type,
      timeoutOption(options?.timeoutMs),
      spins,
    );
    if (r >= 0) return r;
    if (r === -this.#k.FULL) {
      throw argumentError(
        "range",
        `Cannot claim ${length} bytes in ring "${this.name}": the uncommitted claims leave no room; commit() first`,
      );
    }
    this.#fail(r, `claim ${length} bytes in`);
  }

  /** Like `tryClaimAt`, as a view to fill (or null when full). */
  tryClaim(length: number, type = 0): Uint8Array | null {
    const at = this.tryClaimAt(length, type);
    return at < 0 ? null : this.bytes.subarray(at, at + length);
  }

  /** Like `claimAt`, as a view to fill. */
  claim(length: number, options?: RingSendOptions): Uint8Array {
    const at = this.claimAt(length, options);
    return this.bytes.subarray(at, at + length);
  }

  /** Like `claim`, without blocking the event loop. Keep claims and commits of one producer in one task. */
  async claimAsync(length: number, options?: RingSendOptions): Promise<Uint8Array> {
    checkCallOptions(options);
    const at = await this.#claimAsync(length, options, null);
    return this.bytes.subarray(at, at + length);
  }

  async #claimAsync(
    length: number,
    options: RingSendOptions | undefined,
    message: Message | null,
  ): Promise<number> {
    if (!this.#producer) this.attachProducer();
    const type = options?.type ?? 0;
    checkLength(length);
    checkType(type);
    const core = this.segment.core;
    const k = this.#k;
    // Fill and commit inside the step that claimed, so no other task can commit a half-filled record.
    const step = (flags: number) => {
      const r = core.ringClaimStep(this.handle, length, type, flags);
      if (r >= 0 && message !== null) {
        writeMessage(this.bytes, r, message);
        this.#commit(this.handle);
      }
      return r;
    };
    const r = await awaitStep(
      this.segment,
      this.#words,
      step,
      () => core.ringCancelWait(this.handle, k.ROLE_PRODUCER),
      timeoutOption(options?.timeoutMs),
      options?.wait ?? this.wait,
    );
    if (r >= 0) return r;
    if (r === -k.FULL) {
      throw argumentError(
        "range",
        `Cannot claim ${length} bytes in ring "${this.name}": the uncommitted claims leave no room; commit() first`,
      );
    }
    this.#fail(r, `claim ${length} bytes in`);
  }

  /**
   * Claims up to `count` records of `length` bytes each, contiguous, if
   * there is room now; returns how many (0 when full). The first payload is
   * at `claimedAt`, the next `claimedStride` bytes further. For the fastest
   * batches of small fixed-size messages.
   */
  tryClaimMany(count: number, length: number, type = 0): number {
    if (!this.#producer) this.attachProducer();
    checkInteger(count, "count", 0, 0x7FFFFFFF);
    checkLength(length);
    checkType(type);
    const r = this.segment.core.ringClaimMany(this.handle, count, length, type);
    if (r > 0) {
      this.claimedAt = this.batch[0];
      this.claimedStride = this.batch[1];
      return r;
    }
    if (r === -this.#k.FULL || r === 0) return 0;
    checkLength(length);
    checkType(type);
    this.#fail(r, `claim ${length} bytes in`);
  }

  /** Publishes every claimed record to the consumer; returns how many. */
  commit(): number {
    const r = this.#commit(this.handle);
    if (r >= 0) return r;
    this.#fail(r, "commit to");
  }

  /** Drops the claimed, uncommitted records. */
  abort(): void {
    this.segment.core.ringAbort(this.handle);
  }

  /** Sends a message (a copy) if there is room now; false if the ring is full. */
  trySend(message: Message, type = 0): boolean {
    const length = messageLength(message);
    const at = this.tryClaimAt(length, type);
    if (at < 0) return false;
    writeMessage(this.bytes, at, message);
    this.#commit(this.handle);
    return true;
  }

  /** Sends a message (a copy), waiting for room as long as `timeoutMs` allows. */
  send(message: Message, options?: RingSendOptions): void {
    checkCallOptions(options);
    const length = messageLength(message);
    const at = this.claimAt(length, options);
    writeMessage(this.bytes, at, message);
    this.#commit(this.handle);
  }

  /** Sends a message without blocking the event loop. */
  async sendAsync(message: Message, options?: RingSendOptions): Promise<void> {
    checkCallOptions(options);
    if (this.trySend(message, options?.type ?? 0)) return;
    await this.#claimAsync(messageLength(message), options, message);
  }

  // ── consumer ──────────────────────────────────────────────────────────

  #fill(payload: number): RingRecord {
    const record = this.#record;
    record.at = payload;
    record.length = this.batch[1];
    record.type = this.batch[2];
    return record;
  }

  /** The next record if there is one now (in place, valid until `release()`), else null. No allocation. */
  tryRead(): RingRecord | null {
    if (!this.#consumer) this.attachConsumer();
    const r = this.#read(this.handle);
    if (r >= 0) return this.#fill(r);
    if (r === -this.#k.EMPTY) return null;
    this.#fail(r, "read from");
  }

  /** The next record, waiting for one; throws `Timeout`, or `PeerDied` once if the producer died. */
  read(options?: RingWaitOptions): RingRecord {
    checkCallOptions(options);
    if (!this.#consumer) this.attachConsumer();
    const spins = spinsFor(this.#k, options?.wait ?? this.wait);
    const r = this.segment.core.ringReadWait(this.handle, 0, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return this.#fill(r);
    this.#fail(r, "read from");
  }

  /** Like `read`, without blocking the event loop. Keep reads and releases in one task. */
  readAsync(options?: RingWaitOptions): Promise<RingRecord> {
    return this.#readAsync(options, false) as Promise<RingRecord>;
  }

  async #readAsync(options: RingWaitOptions | undefined, copy: boolean): Promise<RingRecord | Uint8Array> {
    checkCallOptions(options);
    if (!this.#consumer) this.attachConsumer();
    const core = this.segment.core;
    let copied: Uint8Array | undefined;
    // A copying read releases inside the step, so no other task sees its record half done.
    const step = (flags: number) => {
      const r = core.ringReadStep(this.handle, 0, 0, flags);
      if (r >= 0 && copy) {
        copied = this.bytes.slice(r, r + this.batch[1]);
        this.#release(this.handle);
      }
      return r;
    };
    const r = await awaitStep(
      this.segment,
      this.#words,
      step,
      () => core.ringCancelWait(this.handle, this.#k.ROLE_CONSUMER),
      timeoutOption(options?.timeoutMs),
      options?.wait ?? this.wait,
    );
    if (r < 0) this.#fail(r, "read from");
    return copied ?? this.#fill(r);
  }

  /**
   * Hands out up to `max` records (an integer >= 1; at most RING_BATCH_MAX,
   * 512, come at once) if there are some now; returns how many, their (at,
   * length, type) in `batch`. With `timeoutMs` or `wait`, waits for the first
   * one.
   */
  readMany(max: number = this.#k.RING_BATCH_MAX, options?: RingWaitOptions): number {
    checkCallOptions(options);
    // The core takes max as a u32: -1 would be "all", NaN 0 and 2^32 + 1 would be 1.
    if ((max >>> 0) !== max || max === 0 || max > 0x7FFFFFFF) {
      checkInteger(
        max,
        "max",
        1,
        0x7FFFFFFF,
        `an integer >= 1 (at most ${this.#k.RING_BATCH_MAX} come at once)`,
      );
    }
    if (!this.#consumer) this.attachConsumer();
    let r: number;
    if (options === undefined) {
      r = this.segment.core.ringReadMany(this.handle, max);
      if (r === -this.#k.EMPTY) return 0;
    } else {
      const spins = spinsFor(this.#k, options.wait ?? this.wait);
      r = this.segment.core.ringReadWait(
        this.handle,
        Math.max(1, max),
        timeoutOption(options.timeoutMs),
        spins,
      );
    }
    if (r >= 0) return r;
    this.#fail(r, "read from");
  }

  /** Frees every record handed out so far for the producer to reuse. */
  release(): void {
    const r = this.#release(this.handle);
    if (r < 0) this.#fail(r, "release in");
  }

  /** The next message as a private copy, if there is one now; else null. */
  tryReceive(): Uint8Array | null {
    const record = this.tryRead();
    if (record === null) return null;
    const copy = this.bytes.slice(record.at, record.at + record.length);
    this.#release(this.handle);
    return copy;
  }

  /** The next message as a private copy, waiting for one. */
  receive(options?: RingWaitOptions): Uint8Array {
    checkCallOptions(options);
    const record = this.read(options);
    const copy = this.bytes.slice(record.at, record.at + record.length);
    this.#release(this.handle);
    return copy;
  }

  /** Like `receive`, without blocking the event loop. */
  receiveAsync(options?: RingWaitOptions): Promise<Uint8Array> {
    try {
      checkCallOptions(options);
    } catch (error) {
      // A promise-returning call fails by rejecting, as the async ones do.
      return Promise.reject(error);
    }
    const now = this.tryReceive();
    if (now !== null) return Promise.resolve(now);
    return this.#readAsync(options, true) as Promise<Uint8Array>;
  }

  /** Occupancy, roles and counters, for inspection. */
  stats(): RingStats {
    const core = this.segment.core;
    const k = this.#k;
    const info = (which: number) => core.ringInfo(this.handle, which) as number;
    return {
      capacity: this.capacity,
      maxMessage: this.maxMessage,
      used: info(k.RING_INFO_USED),
      producerPid: info(k.RING_INFO_PRODUCER),
      consumerPid: info(k.RING_INFO_CONSUMER),
      committed: info(k.RING_INFO_COMMITS),
      read: info(k.RING_INFO_READS),
      claimed: info(k.RING_INFO_CLAIMED),
    };
  }
}
