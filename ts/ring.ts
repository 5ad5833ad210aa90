/**
 * A single-producer single-consumer byte ring in a segment: variable-length
 * records written and read in place (zero-copy), batched commits, and a
 * producer crash that never shows the consumer a torn record.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import type { Message } from "./codec.ts";
import type { WaitMode } from "./wait.ts";
import { Endpoint } from "./endpoint.ts";
import { RingRole } from "./ring_role.ts";
import { RingProducer } from "./ring_send.ts";
import { RingConsumer } from "./ring_receive.ts";
import type { RingOptions, RingRecord, RingSendOptions, RingStats, RingWaitOptions } from "./ring_record.ts";

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
 * import { Segment } from "wshm";
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
  readonly #end: Endpoint;
  readonly #producer: RingRole;
  readonly #consumer: RingRole;
  readonly #send: RingProducer;
  readonly #receive: RingConsumer;

  /** @internal Use the Segment accessor (`segment.ring(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    this.wait = wait;
    const end = new Endpoint(
      segment,
      "ring",
      name,
      handle,
      this,
      segment.core.ringScratch,
      k.RING_BATCH_MAX * 3,
    );
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.capacity = end.core.ringInfo(handle, k.RING_INFO_CAPACITY);
    this.maxMessage = end.core.ringMaxPayload(handle);
    end.checkGeometry(this.capacity, this.maxMessage);
    this.bytes = end.bytes;
    this.batch = end.scratch;
    this.#end = end;
    this.#producer = new RingRole(end, "producer");
    this.#consumer = new RingRole(end, "consumer");
    this.#send = new RingProducer(end, this.#producer);
    this.#receive = new RingConsumer(end, this.#consumer);
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

  /**
   * Takes the producer role (done on first use anyway). Returns true if the
   * previous producer had died (its uncommitted claim is dropped). Throws
   * `Exists` if a live process is the producer.
   */
  attachProducer(): boolean {
    return this.#producer.attach();
  }

  /**
   * Takes the consumer role (done on first use anyway). Returns true if the
   * previous consumer had died (records it had not released are read again).
   */
  attachConsumer(): boolean {
    return this.#consumer.attach();
  }

  /** Gives up the roles this handle holds (uncommitted claims are dropped). */
  detach(): void {
    if (this.segment.closed) return;
    this.#producer.detach();
    this.#consumer.detach();
  }

  [Symbol.dispose](): void {
    this.detach();
  }

  // ── producer (ring_send.ts) ───────────────────────────────────────────

  /**
   * Claims room for `length` bytes if there is some now: the offset of the
   * payload in `bytes` to fill, or -1 if the ring is full. No allocation.
   */
  tryClaimAt(length: number, type = 0): number {
    return this.#send.tryClaimAt(length, type);
  }

  /** Claims room for `length` bytes, waiting for it; returns the payload's offset in `bytes`. */
  claimAt(length: number, options?: RingSendOptions): number {
    return this.#send.claimAt(length, options);
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
    const at = await this.#send.claimAsync(length, options, null);
    return this.bytes.subarray(at, at + length);
  }

  /**
   * Claims up to `count` records of `length` bytes each, contiguous, if
   * there is room now; returns how many (0 when full). The first payload is
   * at `claimedAt`, the next `claimedStride` bytes further. For the fastest
   * batches of small fixed-size messages.
   */
  tryClaimMany(count: number, length: number, type = 0): number {
    const claimed = this.#send.tryClaimMany(count, length, type);
    if (claimed > 0) {
      this.claimedAt = this.batch[0];
      this.claimedStride = this.batch[1];
    }
    return claimed;
  }

  /** Publishes every claimed record to the consumer; returns how many. */
  commit(): number {
    return this.#send.commit();
  }

  /** Drops the claimed, uncommitted records. */
  abort(): void {
    this.#send.abort();
  }

  /** Sends a message (a copy) if there is room now; false if the ring is full. */
  trySend(message: Message, type = 0): boolean {
    return this.#send.trySend(message, type);
  }

  /** Sends a message (a copy), waiting for room as long as `timeoutMs` allows. */
  send(message: Message, options?: RingSendOptions): void {
    this.#send.send(message, options);
  }

  /** Sends a message without blocking the event loop. */
  sendAsync(message: Message, options?: RingSendOptions): Promise<void> {
    return this.#send.sendAsync(message, options);
  }

  // ── consumer (ring_receive.ts) ────────────────────────────────────────

  /** The next record if there is one now (in place, valid until `release()`), else null. No allocation. */
  tryRead(): RingRecord | null {
    return this.#receive.tryRead();
  }

  /** The next record, waiting for one; throws `Timeout`, or `PeerDied` once if the producer died. */
  read(options?: RingWaitOptions): RingRecord {
    return this.#receive.read(options);
  }

  /** Like `read`, without blocking the event loop. Keep reads and releases in one task. */
  readAsync(options?: RingWaitOptions): Promise<RingRecord> {
    return this.#receive.readAsync(options, false) as Promise<RingRecord>;
  }

  /**
   * Hands out up to `max` records (an integer >= 1; at most RING_BATCH_MAX,
   * 512, come at once) if there are some now; returns how many, their (at,
   * length, type) in `batch`. With `timeoutMs` or `wait`, waits for the first
   * one.
   */
  readMany(max: number = this.#end.k.RING_BATCH_MAX, options?: RingWaitOptions): number {
    return this.#receive.readMany(max, options);
  }

  /** Frees every record handed out so far for the producer to reuse. */
  release(): void {
    this.#receive.release();
  }

  /** The next message as a private copy, if there is one now; else null. */
  tryReceive(): Uint8Array | null {
    return this.#receive.tryReceive();
  }

  /** The next message as a private copy, waiting for one. */
  receive(options?: RingWaitOptions): Uint8Array {
    return this.#receive.receive(options);
  }

  /** Like `receive`, without blocking the event loop. */
  receiveAsync(options?: RingWaitOptions): Promise<Uint8Array> {
    return this.#receive.receiveAsync(options);
  }

  /** Occupancy, roles and counters, for inspection. */
  stats(): RingStats {
    const k = this.#end.k;
    const info = (which: number) => this.#end.core.ringInfo(this.handle, which) as number;
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
