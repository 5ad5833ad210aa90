/**
 * One subscriber of a topic: messages handed out in place in order, released
 * with a check that each was still whole, and the copying receives built on
 * the two. Made by {@linkcode Topic.subscribe}.
 *
 * @module
 */

import { WshmError } from "./errors.ts";
import { checkCallOptions } from "./names.ts";
import { statusError } from "./status.ts";
import { timeoutOption } from "./wait.ts";
import type { Endpoint } from "./endpoint.ts";
import { TopicMessage, type TopicWaitOptions } from "./topic_message.ts";

/** How many torn copies in a row a receive takes before it looks at the clock again. */
const TORN_BEFORE_CLOCK = 64;

/**
 * A subscriber: it receives every message published after it attached (and
 * the topic's history), in order. `receive()` copies the next message out;
 * `read()` hands it out in place and `release()` gives back everything read
 * so far. Under the "overwrite" policy a message can be overwritten while it
 * is held in place: `release()` then returns false (and counts it in
 * `missed`); the copying receives never return such a message.
 */
export class TopicSubscriber implements Disposable {
  /** The subscriber record this handle holds. */
  readonly index: number;
  readonly #topic: { readonly name: string; readonly bytes: Uint8Array; readonly end: Endpoint };
  readonly #end: Endpoint;
  readonly #message: TopicMessage;
  readonly #closed: () => void;
  #open = true;
  readonly #read: (handle: number, index: number) => number;
  readonly #release: (handle: number, index: number) => number;
  readonly #handle: number;

  /** @internal Made by `topic.subscribe()`. */
  constructor(
    topic: { readonly name: string; readonly bytes: Uint8Array; readonly end: Endpoint },
    index: number,
    closed: () => void,
  ) {
    this.#topic = topic;
    this.#end = topic.end;
    this.index = index;
    this.#closed = closed;
    this.#message = new TopicMessage(topic);
    this.#read = this.#end.core.topicRead;
    this.#release = this.#end.core.topicRelease;
    this.#handle = this.#end.handle;
  }

  #assertOpen(): void {
    this.#end.segment.assertOpen();
    if (!this.#open) {
      throw new WshmError("Closed", `Cannot read topic "${this.#topic.name}": this subscriber is closed`);
    }
  }

  #fill(at: number): TopicMessage {
    const m = this.#message;
    const s = this.#end.scratch;
    m.at = at;
    m.length = s[1];
    m.type = s[2];
    m.seq = s[3] + s[4] * 2 ** 32;
    m.skipped = s[5] + s[6] * 2 ** 32;
    return m;
  }

  /** @internal Wakes every parked reader of this topic in this process and others (a close that must be seen now). */
  wakeAll(): void {
    const map = this.#end.segment;
    if (!map.closed) map.posix.futexWake(map.base + this.#end.core.topicChangeWord(this.#handle), 0x7FFFFFFF);
  }

  /** @internal What a wait set polls: the segment, the topic's handle and this subscriber's record. */
  pollTarget(): { map: Endpoint["segment"]; handle: number; index: number } {
    this.#assertOpen();
    return { map: this.#end.segment, handle: this.#handle, index: this.index };
  }

  /** The topic's name. */
  get topicName(): string {
    return this.#topic.name;
  }

  /** Messages this subscriber never got whole (overwritten before or while it read them). */
  get missed(): number {
    return this.#end.core.topicInfo(this.#handle, this.#end.k.TOPIC_INFO_SUBSCRIBER_MISSED, this.index);
  }

  /** The next message in place, or null if none is there (never waits). */
  tryRead(): TopicMessage | null {
    this.#assertOpen();
    const r = this.#read(this.#handle, this.index);
    if (r >= 0) return this.#fill(r);
    if (r === -this.#end.k.EMPTY) return null;
    this.#end.fail(r, "read from");
  }

  /** The next message in place, waiting at most `timeoutMs` (then `Timeout`); `PeerDied` once if the publisher died. */
  read(options?: TopicWaitOptions): TopicMessage {
    checkCallOptions(options);
    this.#assertOpen();
    const end: Endpoint = this.#end;
    const r = end.core.topicReadWait(
      this.#handle,
      this.index,
      timeoutOption(options?.timeoutMs),
      end.spins(options),
    );
    if (r >= 0) return this.#fill(r);
    end.fail(r, "read from");
  }

  /** The next message in place, waiting without blocking the event loop. */
  async readAsync(options?: TopicWaitOptions): Promise<TopicMessage> {
    checkCallOptions(options);
    this.#assertOpen();
    const end = this.#end;
    const core = end.core;
    let length = 0, type = 0, seqLow = 0, seqHigh = 0, skippedLow = 0, skippedHigh = 0;
    const step = (flags: number) => {
      const r = core.topicReadStep(this.#handle, this.index, 0, flags);
      if (r >= 0) {
        // Other calls may use the scratch before this promise settles: keep this read's numbers.
        const s = end.scratch;
        [length, type, seqLow, seqHigh, skippedLow, skippedHigh] = [s[1], s[2], s[3], s[4], s[5], s[6]];
      }
      return r;
    };
    const r = await end.waitAsync(
      step,
      () => core.topicCancelWait(this.#handle, 1),
      options,
      options?.signal,
    );
    if (r < 0) end.fail(r, "read from");
    const s = end.scratch;
    [s[1], s[2], s[3], s[4], s[5], s[6]] = [length, type, seqLow, seqHigh, skippedLow, skippedHigh];
    return this.#fill(r);
  }

  /**
   * Gives back every message read in place since the last release. True if
   * each was still whole when released; false if the publisher overwrote one
   * while it was held ("overwrite" policy only; counted in `missed`).
   */
  release(): boolean {
    const r = this.#release(this.#handle, this.index);
    if (r < 0) this.#end.fail(r, "release in");
    return r === 0;
  }

  /** A copy of the next message, or null if none is there (never waits). */
  tryReceive(): Uint8Array | null {
    this.#assertOpen();
    for (let torn = 0;; torn++) {
      const r = this.#read(this.#handle, this.index);
      if (r < 0) {
        if (r === -this.#end.k.EMPTY) return null;
        this.#end.fail(r, "read from");
      }
      const copy = this.#topic.bytes.slice(r, r + this.#end.scratch[1]);
      if (this.#release(this.#handle, this.index) === 0) return copy;
      // Overwritten while we copied: the next message is there already.
      if (torn >= TORN_BEFORE_CLOCK) return null;
    }
  }

  /** A copy of the next message, waiting at most `timeoutMs` (then `Timeout`). */
  receive(options?: TopicWaitOptions): Uint8Array {
    checkCallOptions(options);
    this.#assertOpen();
    const end = this.#end;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const spins = end.spins(options);
    let remaining = timeoutMs;
    while (true) {
      const r = end.core.topicReadWait(this.#handle, this.index, remaining, spins);
      if (r < 0) end.fail(r, "read from");
      const copy = this.#topic.bytes.slice(r, r + end.scratch[1]);
      if (this.#release(this.#handle, this.index) === 0) return copy;
      // Torn under the overwrite policy: take the next one, within the same time limit.
      if (timeoutMs >= 0) {
        remaining = deadline - performance.now();
        if (remaining <= 0) {
          throw statusError(end.k.TIMED_OUT, `Cannot read from topic "${this.#topic.name}"`);
        }
      }
    }
  }

  /** A copy of the next message, waiting without blocking the event loop. */
  async receiveAsync(options?: TopicWaitOptions): Promise<Uint8Array> {
    checkCallOptions(options);
    this.#assertOpen();
    const end: Endpoint = this.#end;
    const core = end.core;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    let copy: Uint8Array | undefined;
    // Copy and release inside the step that read, so no other task sees the message half done.
    const step = (flags: number) => {
      let r = core.topicReadStep(this.#handle, this.index, 0, flags);
      for (let torn = 1; r >= 0; torn++) {
        const bytes = this.#topic.bytes.slice(r, r + end.scratch[1]);
        if (this.#release(this.#handle, this.index) === 0) {
          copy = bytes;
          return r;
        }
        if (torn % TORN_BEFORE_CLOCK === 0 && performance.now() >= deadline) return -end.k.TIMED_OUT;
        // The retry is a plain read: the step above already withdrew any
        // registration; if nothing is there, register again as the caller asked.
        r = core.topicRead(this.#handle, this.index);
        if (r === -end.k.EMPTY) {
          return core.topicReadStep(this.#handle, this.index, 0, flags & end.k.STEP_PARK);
        }
      }
      return r;
    };
    const cancel = () => core.topicCancelWait(this.#handle, 1);
    const r = await end.waitAsync(step, cancel, options, options?.signal, timeoutMs);
    if (r < 0 || copy === undefined) end.fail(r < 0 ? r : -end.k.TIMED_OUT, "read from");
    return copy as Uint8Array;
  }

  /** Detaches: the record is free for another subscriber, and back-pressure it held is released. */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    if (!this.#end.segment.closed) this.#end.core.topicSubscriberDetach(this.#handle, this.index);
    this.#closed();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
