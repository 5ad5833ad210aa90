/**
 * A value read from a blackboard, and the options of the blackboard and of
 * its calls.
 *
 * @module
 */

import type { WaitMode } from "./wait.ts";
import { decodeJson, decodeText } from "./codec.ts";

/** Options of {@linkcode Segment.blackboard}. */
export interface BlackboardOptions {
  /**
   * The keys, fixed at creation: 1 to 256 distinct names of 1 to 48 UTF-8
   * bytes. Needed to create the blackboard; ignored if it exists (its own
   * keys are read from the segment).
   */
  keys?: readonly string[];
  /** The largest value in bytes, 1 to 2^24 (default 256). Ignored if it exists. */
  maxValueSize?: number;
  /** Create the blackboard if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/** Options of the calls that may wait: writing (for the write claim), waiting for a change. */
export interface BlackboardWaitOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** This call's wait mode (default: the blackboard's). */
  wait?: WaitMode;
}

/** Options of reads. */
export interface BlackboardReadOptions {
  /**
   * How long a read may keep retrying while a writer rewrites the keys it is
   * copying faster than it can copy them (default 1000 ms, then `Timeout`).
   * A read never waits for a writer otherwise.
   */
  timeoutMs?: number;
}

/**
 * One key's value as read: a private copy (later writes do not change it),
 * with the version it had (a count of the key's writes that wraps at 2^32;
 * 0: never written, and then the value is empty).
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/bb-value", { size: 1 << 20 });
 * const board = segment.blackboard("state", { keys: ["mode"] });
 * board.write("mode", JSON.stringify({ on: true }));
 * const value = board.read("mode");
 * console.log(value.version, value.json()); // 1 { on: true }
 * segment.unlink();
 * ```
 */
export class BlackboardValue {
  /** The key. */
  readonly key: string;
  /** The key's version when read. */
  readonly version: number;
  /** The value's bytes (a private copy). */
  readonly bytes: Uint8Array;
  /** The blackboard's generation (count of write batches) the value was read at. */
  readonly generation: number;

  /** @internal Made by Blackboard reads. */
  constructor(key: string, version: number, bytes: Uint8Array, generation: number) {
    this.key = key;
    this.version = version;
    this.bytes = bytes;
    this.generation = generation;
  }

  /** The value decoded as UTF-8. */
  text(): string {
    return decodeText(this.bytes);
  }

  /** The value parsed as JSON (throws SyntaxError if it is not). */
  json<T = unknown>(): T {
    return decodeJson<T>(this.bytes);
  }
}
