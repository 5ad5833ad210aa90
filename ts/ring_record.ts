/**
 * The options, statistics and record objects of {@linkcode Ring}.
 *
 * @module
 */

import { decodeJson, decodeText } from "./codec.ts";
import type { WaitMode } from "./wait.ts";
import { checkInteger } from "./names.ts";

/** Options of `Segment.ring`. */
export interface RingOptions {
  /**
   * Data bytes, a power of two from 64 to 2^30 (default 65536); one message
   * carries at most capacity / 2 - 8 bytes. Ignored if the ring exists.
   */
  capacity?: number;
  /** Create the ring if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/** Options of the blocking and async calls. */
export interface RingWaitOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** This call's wait mode (default: the ring's). */
  wait?: WaitMode;
}

/** Options of the producer calls. */
export interface RingSendOptions extends RingWaitOptions {
  /** A record type from 0 to 2^31 - 1 (default 0), handed to the reader with the record. */
  type?: number;
}

/** What `stats()` reports; every number is stale as soon as read. */
export interface RingStats {
  capacity: number;
  maxMessage: number;
  /** Bytes committed and not yet released. */
  used: number;
  /** Pid of the attached producer, 0 if none. */
  producerPid: number;
  consumerPid: number;
  /** Records committed since creation. */
  committed: number;
  /** Records handed to a reader since creation. */
  read: number;
  /** Bytes claimed and not yet committed. */
  claimed: number;
}

/**
 * One record handed out by `read()`: `at` and `length` locate its payload in
 * `ring.bytes`. The object is reused by the next read; the bytes stay valid
 * until `record.release()` (or `ring.release()`, the same call). As with a
 * queue's `message.release()`, what `read()` gave is given back by calling
 * `release()` on it; a ring frees in order, so this also frees every record
 * read before it.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/record-example", { size: 1 << 20 });
 * const ring = segment.ring("r");
 * ring.send('{"n":1}', { type: 2 });
 * const record = ring.read({ timeoutMs: 100 });
 * console.log(record.type, record.json()); // 2 { n: 1 }
 * record.release();
 * segment.unlink();
 * ```
 */
export class RingRecord {
  /** Offset of the payload in `ring.bytes`. */
  at = 0;
  /** Payload bytes. */
  length = 0;
  /** The type the producer gave. */
  type = 0;
  readonly #ring: { readonly bytes: Uint8Array; release(): void };

  /** @internal Made by its object, never by users. */
  constructor(ring: { readonly bytes: Uint8Array; release(): void }) {
    this.#ring = ring;
  }

  /** Frees this record and every record read before it (same as `ring.release()`). */
  release(): void {
    this.#ring.release();
  }

  /** A view of the payload in shared memory (no copy). */
  get bytes(): Uint8Array {
    return this.#ring.bytes.subarray(this.at, this.at + this.length);
  }

  /** A private copy of the payload. */
  copy(): Uint8Array {
    return this.#ring.bytes.slice(this.at, this.at + this.length);
  }

  /** The payload as UTF-8 text. */
  text(): string {
    return decodeText(this.bytes);
  }

  /** The payload as UTF-8 JSON. */
  json<T = unknown>(): T {
    return decodeJson<T>(this.bytes);
  }
}

/** A record length: a TypeError or RangeError (code InvalidArgument) unless an integer from 0 to 2^31 - 1. */
export function checkLength(length: number): void {
  checkInteger(length, "length", 0, 0x7FFFFFFF, "an integer >= 0");
}

/** A record or message type: a TypeError or RangeError unless an integer from 0 to 2^31 - 1. */
export function checkType(type: number): void {
  checkInteger(type, "message type", 0, 0x7FFFFFFF, "an integer from 0 to 2^31 - 1");
}
