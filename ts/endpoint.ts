/**
 * What a ring, a queue and a channel handle share, and what their send and
 * receive modules reach through: the object's memory views, its core handle,
 * its failure messages, the wait mode of each call and the async wait, and
 * the copying receive built on an in-place read. Not part of the public API.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import type { Core, CoreConstants } from "./core.ts";
import { statusError } from "./status.ts";
import { checkCallOptions } from "./names.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";

/** @internal The options of every blocking and async call: a time limit and a wait mode. */
export interface CallOptions {
  timeoutMs?: number;
  wait?: WaitMode;
}

/** @internal What was handed out in place: where it is in `bytes` and how long. */
export interface Taken {
  at: number;
  length: number;
}

/** @internal A record or message read in place: also its type. */
export interface TakenMessage extends Taken {
  type: number;
}

/**
 * @internal One open ring, queue or channel as its operation modules see it.
 * `owner` is the public object, whose `wait` (the handle's default mode)
 * users may change at any time.
 */
export class Endpoint {
  readonly segment: Mapping;
  readonly core: Core;
  readonly k: CoreConstants;
  readonly kind: string;
  readonly name: string;
  readonly handle: number;
  /** The segment's bytes: every `at` offset indexes this view. */
  readonly bytes: Uint8Array;
  /** The whole memory as words, for the async wait's polling. */
  readonly words: Int32Array;
  /** The core's scratch words of this kind: where a read says what it handed out. */
  readonly scratch: Uint32Array;
  readonly #owner: { readonly wait: WaitMode };

  constructor(
    segment: Mapping,
    kind: string,
    name: string,
    handle: number,
    owner: { readonly wait: WaitMode },
    scratch: { value: number },
    scratchWords: number,
  ) {
    const k = segment.constants;
    this.segment = segment;
    this.core = segment.core;
    this.k = k;
    this.kind = kind;
    this.name = name;
    this.handle = handle;
    this.#owner = owner;
    // The handle's default mode is checked before anything is read.
    spinsFor(k, owner.wait);
    this.bytes = new Uint8Array(segment.memory.buffer, k.SEGMENT_BASE, segment.size);
    this.words = new Int32Array(segment.memory.buffer);
    this.scratch = new Uint32Array(segment.memory.buffer, scratch.value, scratchWords);
  }

  /** Throws the error of a core status: `Cannot ${what} ring "events": ...`. */
  fail(status: number, what: string): never {
    throw statusError(-status, `Cannot ${what} ${this.kind} "${this.name}"`);
  }

  /** Throws `Corrupt` (the object's geometry reads negative) unless every value is >= 0. */
  checkGeometry(...values: number[]): void {
    for (const value of values) {
      if (value < 0) throw statusError(this.k.CORRUPT, `Cannot open ${this.kind} "${this.name}"`);
    }
  }

  /** A call's wait mode: its own, else the handle's. */
  waitMode(options: CallOptions | undefined): WaitMode {
    return options?.wait ?? this.#owner.wait;
  }

  /** The core's `spins` argument for a call's wait mode. */
  spins(options: CallOptions | undefined): number {
    return spinsFor(this.k, this.waitMode(options));
  }

  /**
   * Drives `step` without blocking the event loop (see awaitStep), with the
   * call's time limit, the call's or the handle's wait mode, and `signal`.
   */
  waitAsync(
    step: (flags: number) => number,
    cancel: () => void,
    options: CallOptions | undefined,
    signal?: AbortSignal,
    timeoutMs: number = timeoutOption(options?.timeoutMs),
  ): Promise<number> {
    return awaitStep(this.segment, this.words, step, cancel, timeoutMs, this.waitMode(options), signal);
  }

  /** waitAsync with the mode and the time limit (-1: none) given, as the rest of a wait after a poll. */
  waitAsyncIn(
    step: (flags: number) => number,
    cancel: () => void,
    mode: WaitMode,
    timeoutMs: number,
  ): Promise<number> {
    return awaitStep(this.segment, this.words, step, cancel, timeoutMs, mode);
  }

  /**
   * Waits without blocking the event loop for `read` (a read step of the
   * core) to hand something out: its offset, or with `copy` a private copy,
   * made and released (`release(at)`) inside the step, so that no other task
   * sees it half done. The caller checks `options` first.
   */
  async readAsync(
    read: (flags: number) => number,
    cancel: () => void,
    release: (at: number) => void,
    options: CallOptions | undefined,
    copy: boolean,
  ): Promise<number | Uint8Array> {
    const scratch = this.scratch;
    let copied: Uint8Array | undefined;
    let length = 0;
    let type = 0;
    const step = (flags: number) => {
      const r = read(flags);
      if (r >= 0) {
        length = scratch[1];
        type = scratch[2];
        if (copy) {
          copied = this.bytes.slice(r, r + length);
          release(r);
        }
      }
      return r;
    };
    const r = await this.waitAsync(step, cancel, options);
    if (r < 0) this.fail(r, "read from");
    if (copied !== undefined) return copied;
    // Other calls may have used the scratch since; put this read's numbers back.
    scratch[1] = length;
    scratch[2] = type;
    return r;
  }

  /** Points `taken` (the handle's one reused record) at what a read handed out at `at`. */
  fill<T extends TakenMessage>(taken: T, at: number): T {
    taken.at = at;
    taken.length = this.scratch[1];
    taken.type = this.scratch[2];
    return taken;
  }

  /** A private copy of what a read handed out, released at once (`release(at)`); null for null. */
  copyOut(taken: Taken | null, release: (at: number) => unknown): Uint8Array | null {
    if (taken === null) return null;
    const copy = this.bytes.slice(taken.at, taken.at + taken.length);
    release(taken.at);
    return copy;
  }
}

/**
 * @internal The copying async receive of a ring or queue: a message there
 * now comes at once, else `later()` waits for one. Misuse rejects, as every
 * promise-returning call fails.
 */
export function receiveAsync(
  options: CallOptions | undefined,
  now: () => Uint8Array | null,
  later: () => Promise<unknown>,
): Promise<Uint8Array> {
  try {
    checkCallOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  const message = now();
  if (message !== null) return Promise.resolve(message);
  return later() as Promise<Uint8Array>;
}
