/**
 * A queue's message taken in place, the options of the queue and of its
 * calls, and what `stats()` reports.
 *
 * @module
 */

import type { WaitMode } from "./wait.ts";
import { decodeJson, decodeText } from "./codec.ts";
import { checkInteger } from "./names.ts";

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
 * @internal What a message needs of its queue: declared here, so that this
 * module does not import queue.ts (which imports it).
 */
export interface MessageSource {
  readonly bytes: Uint8Array;
  releaseAt(at: number): void;
}

/**
 * A message taken by `read()`, in place: `at` and `length` locate it in
 * `queue.bytes`. The object is reused by the next read of this handle;
 * the slot stays this process's until `message.release()` (or
 * `queue.releaseAt(message.at)`).
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
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
  readonly #queue: MessageSource;

  /** @internal Made by its object, never by users. */
  constructor(queue: MessageSource) {
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

  /** Gives the slot back (same as `queue.releaseAt(this.at)`). */
  release(): void {
    this.#queue.releaseAt(this.at);
  }
}

// The core takes these as u32: NaN would be 0, 1.5 would be 1, 2^32 + 5 would
// be 5 and "7" would be 7. Hot callers test `(x >>> 0) !== x` first, which is
// false for every plain u32, so that a valid call costs no more than that.
export function checkType(type: unknown): void {
  checkInteger(type, "message type", 0, 0x7FFFFFFF, "an integer from 0 to 2^31 - 1");
}

export function checkAt(at: unknown): void {
  checkInteger(at, "slot offset", 0, 0xFFFFFFFF, "an offset returned by claimAt() or read()");
}
