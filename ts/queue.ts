/**
 * A bounded MPMC queue in a segment: fixed-size slots, any number of
 * producer and consumer processes, each message delivered exactly once.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { statusError } from "./status.ts";
import { argumentError } from "./errors.ts";
import { decodeJson, decodeText, type Message, messageLength, writeMessage } from "./codec.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger } from "./names.ts";

/** Options of {@linkcode Segment.queue}. */
export interface QueueOptions {
  /** The longest message in bytes (default 256). Ignored if the queue exists. */
  slotSize?: number;
  /** How many messages it holds, a power of two from 2 to 2^20 (default 64). Ignored if it exists. */
  slots?: number;
  /** Create the queue if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/** Options of the blocking and async calls. */
export interface QueueWaitOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** This call's wait mode (default: the queue's). */
  wait?: WaitMode;
}

/** Options of the sending calls. */
export interface QueueSendOptions extends QueueWaitOptions {
  /** A message type from 0 to 2^31 - 1 (default 0). */
  type?: number;
}

/** What `stats()` reports; stale as soon as read. */
export interface QueueStats {
  slots: number;
  slotSize: number;
  /** Messages claimed since creation (wraps at 2^32). */
  enqueued: number;
  /** Messages taken since creation (wraps at 2^32). */
  dequeued: number;
  /** Messages in the queue or being written now. */
  length: number;
}

/**
 * A message taken by `read()`, in place: `at` and `length` locate it in
 * `queue.bytes`. The object is reused by the next read of this handle;
 * the slot stays this process's until `queue.release(at)`.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/message-example", { size: 1 << 20 });
 * const queue = segment.queue("q");
 * queue.send("job", { timeoutMs: 100 });
 * const message = queue.read({ timeoutMs: 100 });
 * console.log(message.text()); // "job"
 * message.release();
 * segment.unlink();
 * ```
 */
export class QueueMessage {
  at = 0;
  length = 0;
  type = 0;
  readonly #queue: Queue;

  /** @internal Made by its object, never by users. */
  constructor(queue: Queue) {
    this.#queue = queue;
  }

  /** A view of the message in shared memory (no copy). */
  get bytes(): Uint8Array {
    return this.#queue.bytes.subarray(this.at, this.at + this.length);
  }

  copy(): Uint8Array {
    return this.#queue.bytes.slice(this.at, this.at + this.length);
  }

  text(): string {
    return decodeText(this.bytes);
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.bytes);
  }

  /** Gives the slot back (same as `queue.release(this.at)`). */
  release(): void {
    this.#queue.release(this.at);
  }
}

// The core takes these as u32: NaN would be 0, 1.5 would be 1, 2^32 + 5 would
// be 5 and "7" would be 7. Hot callers test `(x >>> 0) !== x` first, which is
// false for every plain u32, so that a valid call costs no more than that.
function checkType(type: unknown): void {
  checkInteger(type, "message type", 0, 0x7FFFFFFF, "an integer from 0 to 2^31 - 1");
}

function checkAt(at: unknown): void {
  checkInteger(at, "slot offset", 0, 0xFFFFFFFF, "an offset returned by claimAt() or read()");
}

/**
 * A bounded MPMC queue: `send()`/`receive()` copy messages in and out;
 * `claimAt()` + `commit()` and `read()` + `release()` work in place. `try`
 * forms never wait (false/null/-1 when full or empty), blocking forms take
 * `timeoutMs`, async forms never block the event loop. A message longer
 * than `slotSize` throws `TooLarge`. A process that dies holding a slot
 * does not stall the queue: after a wait slice the others recover the slot
 * (a message a dead consumer had taken counts as delivered to it).
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
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
  readonly #scratch: Uint32Array;
  readonly #words: Int32Array;
  readonly #k: Readonly<Record<string, number>>;
  readonly #claim: (handle: number) => number;
  readonly #commit: (handle: number, at: number, length: number, type: number) => number;
  readonly #read: (handle: number) => number;
  readonly #release: (handle: number, at: number) => number;

  /** @internal Use the Segment accessor (`segment.queue(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    const core = segment.core;
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.#k = k;
    spinsFor(k, wait);
    this.wait = wait;
    this.slots = core.queueInfo(handle, k.QUEUE_INFO_SLOTS);
    this.slotSize = core.queueInfo(handle, k.QUEUE_INFO_SLOT_SIZE);
    if (this.slots < 0) throw statusError(k.CORRUPT, `Cannot open queue "${name}"`);
    this.bytes = new Uint8Array(segment.memory.buffer, k.SEGMENT_BASE, segment.size);
    this.#scratch = new Uint32Array(segment.memory.buffer, core.queueScratch.value, 3);
    this.#words = new Int32Array(segment.memory.buffer);
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
    throw statusError(-status, `Cannot ${what} queue "${this.name}"`);
  }

  #checkLength(length: number): void {
    if (length > this.slotSize) {
      throw statusError(
        this.#k.TOO_LARGE,
        `Cannot send ${length} bytes to queue "${this.name}" (slots hold ${this.slotSize})`,
      );
    }
  }

  // ── producers ─────────────────────────────────────────────────────────

  /** Claims a slot if one is free now: the offset in `bytes` of `slotSize` bytes to fill, or -1. */
  tryClaimAt(): number {
    const r = this.#claim(this.handle);
    if (r >= 0) return r;
    if (r === -this.#k.FULL) return -1;
    this.#fail(r, "claim a slot of");
  }

  /** Claims a slot, waiting for one; returns its offset in `bytes`. */
  claimAt(options?: QueueWaitOptions): number {
    checkCallOptions(options);
    const spins = spinsFor(this.#k, options?.wait ?? this.wait);
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
    const r = await awaitStep(
      this.segment,
      this.#words,
      step,
      () => core.queueCancelWait(this.handle, 1),
      timeoutOption(options?.timeoutMs),
      options?.wait ?? this.wait,
    );
    if (r < 0) this.#fail(r, "send to");
  }

  // ── consumers ─────────────────────────────────────────────────────────

  #fill(at: number): QueueMessage {
    const message = this.#message;
    message.at = at;
    message.length = this.#scratch[1];
    message.type = this.#scratch[2];
    return message;
  }

  /** Takes the next message if there is one now (in place; release it), else null. */
  tryRead(): QueueMessage | null {
    const r = this.#read(this.handle);
    if (r >= 0) return this.#fill(r);
    if (r === -this.#k.EMPTY) return null;
    this.#fail(r, "read from");
  }

  /** Takes the next message, waiting for one. */
  read(options?: QueueWaitOptions): QueueMessage {
    checkCallOptions(options);
    const spins = spinsFor(this.#k, options?.wait ?? this.wait);
    const r = this.segment.core.queueReadWait(this.handle, timeoutOption(options?.timeoutMs), spins);
    if (r >= 0) return this.#fill(r);
    this.#fail(r, "read from");
  }

  /** Like `read`, without blocking the event loop. */
  async readAsync(options?: QueueWaitOptions): Promise<QueueMessage> {
    const r = await this.#readAsync(options, false);
    return this.#fill(r as number);
  }

  async #readAsync(options: QueueWaitOptions | undefined, copy: boolean): Promise<number | Uint8Array> {
    checkCallOptions(options);
    const core = this.segment.core;
    let copied: Uint8Array | undefined;
    let length = 0;
    let type = 0;
    const step = (flags: number) => {
      const r = core.queueReadStep(this.handle, 0, 0, flags);
      if (r >= 0) {
        length = this.#scratch[1];
        type = this.#scratch[2];
        if (copy) {
          copied = this.bytes.slice(r, r + length);
          this.#release(this.handle, r);
        }
      }
      return r;
    };
    const r = await awaitStep(
      this.segment,
      this.#words,
      step,
      () => core.queueCancelWait(this.handle, 0),
      timeoutOption(options?.timeoutMs),
      options?.wait ?? this.wait,
    );
    if (r < 0) this.#fail(r, "read from");
    if (copied !== undefined) return copied;
    // Other calls may have used the scratch since; put this message's numbers back.
    this.#scratch[1] = length;
    this.#scratch[2] = type;
    return r;
  }

  /** Gives back the slot of a message taken by `read` (its `at`). */
  release(at: number): void {
    if ((at >>> 0) !== at) checkAt(at);
    const r = this.#release(this.handle, at);
    if (r !== 0) this.#fail(r, "release a slot of");
  }

  /** The next message as a private copy if there is one now; else null. */
  tryReceive(): Uint8Array | null {
    const message = this.tryRead();
    if (message === null) return null;
    const copy = message.copy();
    this.#release(this.handle, message.at);
    return copy;
  }

  /** The next message as a private copy, waiting for one. */
  receive(options?: QueueWaitOptions): Uint8Array {
    checkCallOptions(options);
    const message = this.read(options);
    const copy = message.copy();
    this.#release(this.handle, message.at);
    return copy;
  }

  /** Like `receive`, without blocking the event loop. */
  receiveAsync(options?: QueueWaitOptions): Promise<Uint8Array> {
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

  stats(): QueueStats {
    const core = this.segment.core;
    const k = this.#k;
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
