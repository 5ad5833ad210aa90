/**
 * A bounded MPMC queue in a segment: fixed-size slots, any number of
 * producer and consumer processes, each message delivered exactly once.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { statusError } from "./status.ts";
import { argumentError } from "./errors.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { Endpoint, receiveAsync } from "./endpoint.ts";
import {
  checkAt,
  checkType,
  QueueMessage,
  type QueueOptions,
  type QueueSendOptions,
  type QueueStats,
  type QueueWaitOptions,
} from "./queue_message.ts";

export { QueueMessage } from "./queue_message.ts";
export type { QueueOptions, QueueSendOptions, QueueStats, QueueWaitOptions } from "./queue_message.ts";

/**
 * A bounded MPMC queue: `send()`/`receive()` copy messages in and out;
 * `claimAt()` + `commit()` and `read()` + `message.release()` work in place. `try`
 * forms never wait (false/null/-1 when full or empty), blocking forms take
 * `timeoutMs`, async forms never block the event loop. A message longer
 * than `slotSize` throws `TooLarge`. A process that dies holding a slot
 * does not stall the queue: after a wait slice the others recover the slot
 * (a message a dead consumer had taken counts as delivered to it).
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/queue-example", { size: 1 << 20 });
 * const jobs = segment.queue("jobs", { slotSize: 128, slots: 256 });
 * jobs.send(JSON.stringify({ id: 1 }));
 * const job = jobs.read({ timeoutMs: 100 });
 * console.log(job.json()); // { id: 1 }
 * job.release();
 * segment.unlink();
 * ```
 */
export class Queue {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  readonly slots: number;
  /** The longest message. */
  readonly slotSize: number;
  /** The segment's bytes: every `at` offset of this API indexes this view. */
  readonly bytes: Uint8Array;
  /** The default wait mode of this handle. */
  wait: WaitMode;
  readonly #message: QueueMessage;
  readonly #end: Endpoint;
  readonly #claim: (handle: number) => number;
  readonly #commit: (handle: number, at: number, length: number, type: number) => number;
  readonly #read: (handle: number) => number;
  readonly #release: (handle: number, at: number) => number;
  readonly #releaseAt = (at: number) => this.#release(this.handle, at);

  /** @internal Use the Segment accessor (`segment.queue(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    const core = segment.core;
    this.wait = wait;
    const end = new Endpoint(segment, "queue", name, handle, this, core.queueScratch, 3);
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.slots = core.queueInfo(handle, k.QUEUE_INFO_SLOTS);
    this.slotSize = core.queueInfo(handle, k.QUEUE_INFO_SLOT_SIZE);
    end.checkGeometry(this.slots);
    this.bytes = end.bytes;
    this.#end = end;
    this.#message = new QueueMessage(this);
    this.#claim = core.queueClaim;
    this.#commit = core.queueCommit;
    this.#read = core.queueRead;
    this.#release = core.queueRelease;
  }

  /** @internal Opens (or creates) the queue `name` of `map`: Segment.queue(). */
  static open(map: Mapping, name: string, options: QueueOptions = {}): Queue {
    const k = map.constants;
    map.checkAccess(name, options, "queue", options?.wait ?? "adaptive");
    const slotSize = options.slotSize ?? 256;
    const slots = options.slots ?? 64;
    checkInteger(
      slotSize,
      "slotSize",
      1,
      k.QUEUE_MAX_SLOT_SIZE,
      `an integer from 1 to ${k.QUEUE_MAX_SLOT_SIZE} for queue "${name}"`,
    );
    const powerOfTwo = `a power of two from 2 to ${k.QUEUE_MAX_SLOTS} for queue "${name}"`;
    checkInteger(slots, "slots", 2, k.QUEUE_MAX_SLOTS, powerOfTwo);
    if ((slots & (slots - 1)) !== 0) {
      throw argumentError("range", `Invalid slots ${slots}: it must be ${powerOfTwo}`);
    }
    return map.cached(`queue:${name}`, () => {
      const found = map.findOrCreate(k.KIND_QUEUE, name, options, slotSize, slots);
      return new Queue(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #fail(status: number, what: string): never {
    this.#end.fail(status, what);
  }

  #checkLength(length: number): void {
    if (length > this.slotSize) {
      throw statusError(
        this.#end.k.TOO_LARGE,
        `Cannot send ${length} bytes to queue "${this.name}" (slots hold ${this.slotSize})`,
      );
    }
  }

  // ── producers ─────────────────────────────────────────────────────────

  /** Claims a slot if one is free now: the offset in `bytes` of `slotSize` bytes to fill, or -1. */
  tryClaimAt(): number {
    const r = this.#claim(this.handle);
    if (r >= 0) return r;
    if (r === -this.#end.k.FULL) return -1;
    this.#fail(r, "claim a slot of");
  }

  /** Claims a slot, waiting for one; returns its offset in `bytes`. */
  claimAt(options?: QueueWaitOptions): number {
    checkCallOptions(options);
    const spins = this.#end.spins(options);
    const r = this.segment.core.queueClaimWait(this.handle, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return r;
    this.#fail(r, "claim a slot of");
  }

  /** Publishes a claimed slot holding `length` bytes. */
  commit(at: number, length: number, type = 0): void {
    if ((length >>> 0) !== length) checkInteger(length, "length", 0, 0xFFFFFFFF, "an integer >= 0");
    if ((at >>> 0) !== at) checkAt(at);
    if ((type >>> 0) !== type || type > 0x7FFFFFFF) checkType(type);
    this.#checkLength(length);
    const r = this.#commit(this.handle, at, length, type);
    if (r === 0) return;
    checkType(type);
    this.#fail(r, "commit to");
  }

  /** Gives up a claimed slot (consumers skip it). */
  abort(at: number): void {
    if ((at >>> 0) !== at) checkAt(at);
    const r = this.segment.core.queueAbort(this.handle, at);
    if (r !== 0) this.#fail(r, "abort a claim of");
  }

  /** Sends a copy of `message` if a slot is free now; false if the queue is full. */
  trySend(message: Message, type = 0): boolean {
    const length = messageLength(message);
    this.#checkLength(length);
    // Checked before the claim: a slot claimed and then refused would stay claimed.
    checkType(type);
    const at = this.tryClaimAt();
    if (at < 0) return false;
    writeMessage(this.bytes, at, message);
    this.commit(at, length, type);
    return true;
  }

  /** Sends a copy of `message`, waiting for a free slot. */
  send(message: Message, options?: QueueSendOptions): void {
    checkCallOptions(options);
    const length = messageLength(message);
    this.#checkLength(length);
    checkType(options?.type ?? 0);
    const at = this.claimAt(options);
    writeMessage(this.bytes, at, message);
    this.commit(at, length, options?.type ?? 0);
  }

  /** Sends without blocking the event loop. */
  async sendAsync(message: Message, options?: QueueSendOptions): Promise<void> {
    checkCallOptions(options);
    const length = messageLength(message);
    this.#checkLength(length);
    const type = options?.type ?? 0;
    checkType(type);
    const core = this.segment.core;
    // Fill and commit inside the step that claimed: the slot is never left claimed across an await.
    const step = (flags: number) => {
      const r = core.queueClaimStep(this.handle, 0, 0, flags);
      if (r >= 0) {
        writeMessage(this.bytes, r, message);
        this.#commit(this.handle, r, length, type);
      }
      return r;
    };
    const r = await this.#end.waitAsync(step, () => core.queueCancelWait(this.handle, 1), options);
    if (r < 0) this.#fail(r, "send to");
  }

  // ── consumers ─────────────────────────────────────────────────────────

  #fill(at: number): QueueMessage {
    return this.#end.fill(this.#message, at);
  }

  /** Takes the next message if there is one now (in place; release it), else null. */
  tryRead(): QueueMessage | null {
    const r = this.#read(this.handle);
    if (r >= 0) return this.#fill(r);
    if (r === -this.#end.k.EMPTY) return null;
    this.#fail(r, "read from");
  }

  /** Takes the next message, waiting for one. */
  read(options?: QueueWaitOptions): QueueMessage {
    checkCallOptions(options);
    const spins = this.#end.spins(options);
    const r = this.segment.core.queueReadWait(this.handle, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return this.#fill(r);
    this.#fail(r, "read from");
  }

  /** Like `read`, without blocking the event loop. */
  async readAsync(options?: QueueWaitOptions): Promise<QueueMessage> {
    const r = await this.#readAsync(options, false);
    return this.#fill(r as number);
  }

  #readAsync(options: QueueWaitOptions | undefined, copy: boolean): Promise<number | Uint8Array> {
    checkCallOptions(options);
    const core = this.segment.core;
    return this.#end.readAsync(
      (flags) => core.queueReadStep(this.handle, 0, 0, flags),
      () => core.queueCancelWait(this.handle, 0),
      this.#releaseAt,
      options,
      copy,
    );
  }

  /**
   * Gives back the slot of a message taken by `read`, by its offset `at`:
   * the offset form of `message.release()`, named like `claimAt()`.
   */
  releaseAt(at: number): void {
    if ((at >>> 0) !== at) checkAt(at);
    const r = this.#release(this.handle, at);
    if (r !== 0) this.#fail(r, "release a slot of");
  }

  /**
   * The old name of {@linkcode Queue.releaseAt}.
   *
   * @deprecated Use `message.release()`, or `queue.releaseAt(at)` with an offset.
   */
  release(at: number): void {
    this.releaseAt(at);
  }

  /** The next message as a private copy if there is one now; else null. */
  tryReceive(): Uint8Array | null {
    return this.#end.copyOut(this.tryRead(), this.#releaseAt);
  }

  /** The next message as a private copy, waiting for one. */
  receive(options?: QueueWaitOptions): Uint8Array {
    checkCallOptions(options);
    return this.#end.copyOut(this.read(options), this.#releaseAt)!;
  }

  /** Like `receive`, without blocking the event loop. */
  receiveAsync(options?: QueueWaitOptions): Promise<Uint8Array> {
    return receiveAsync(options, () => this.tryReceive(), () => this.#readAsync(options, true));
  }

  stats(): QueueStats {
    const core = this.segment.core;
    const k = this.#end.k;
    const enqueued = core.queueInfo(this.handle, k.QUEUE_INFO_ENQUEUED) as number;
    const dequeued = core.queueInfo(this.handle, k.QUEUE_INFO_DEQUEUED) as number;
    return {
      slots: this.slots,
      slotSize: this.slotSize,
      enqueued,
      dequeued,
      length: (enqueued - dequeued) >>> 0,
    };
  }
}
