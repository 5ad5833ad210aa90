/**
 * A publish/subscribe topic in a segment: one publisher, up to 64
 * subscribers, each receiving every message in order; messages written and
 * read in place (zero-copy), a history for late subscribers, and a policy for
 * slow ones (back-pressure or overwrite with an exact count of what was
 * missed). Protocol and layout: wasm/topic/layout.ts.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { timeoutOption, type WaitMode } from "./wait.ts";
import { Endpoint } from "./endpoint.ts";
import { checkLength, checkType } from "./ring_record.ts";
import { TopicSubscriber } from "./topic_subscriber.ts";
import type {
  TopicOptions,
  TopicPolicy,
  TopicPublishOptions,
  TopicStats,
  TopicSubscriberStats,
} from "./topic_message.ts";

export { TopicMessage } from "./topic_message.ts";
export { TopicSubscriber } from "./topic_subscriber.ts";
export type {
  TopicOptions,
  TopicPolicy,
  TopicPublishOptions,
  TopicStats,
  TopicSubscriberStats,
  TopicWaitOptions,
} from "./topic_message.ts";

/**
 * A topic. One process at a time is its publisher (the role is taken on
 * first publish, or by `attachPublisher()`, and taken over if its holder
 * died); any number of handles subscribe with `subscribe()`, up to the
 * topic's `subscribers`.
 *
 * Publisher: `publish()` copies a message in; `loan()` returns the next
 * message's bytes to fill in place, published by `commit()`. Under the
 * "block" policy publishing waits (with `timeoutMs`) while a subscriber still
 * holds the message it would overwrite; `tryPublish()` returns false instead,
 * and `publishAsync()` waits without blocking the event loop.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * const segment = Segment.create("/topic-example", { size: 1 << 20 });
 * const prices = segment.topic("prices", { maxMessage: 256, history: 1 });
 * const early = prices.subscribe();
 * prices.publish("EUR 1.08");
 * const late = prices.subscribe(); // history 1: gets the last message too
 * const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
 * console.log(text(early.receive({ timeoutMs: 100 })), text(late.receive({ timeoutMs: 100 })));
 * early.close();
 * late.close();
 * segment.unlink();
 * segment.close();
 * ```
 */
export class Topic implements Disposable {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  /** The longest message in bytes. */
  readonly maxMessage: number;
  /** Messages the topic holds. */
  readonly depth: number;
  /** Subscriber records: the most subscribers attached at once. */
  readonly subscribers: number;
  /** Messages a late subscriber gets from before it attached. */
  readonly history: number;
  readonly policy: TopicPolicy;
  /** The segment's bytes: every `at` offset of this API indexes this view. */
  readonly bytes: Uint8Array;
  /** The default wait mode of this handle. */
  wait: WaitMode;
  /** @internal */
  readonly end: Endpoint;
  #publisher = false;
  readonly #loan: (handle: number, length: number, type: number) => number;
  readonly #publish: (handle: number) => number;
  readonly #subscribed = new Set<TopicSubscriber>();

  /** @internal Use the Segment accessor (`segment.topic(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    this.wait = wait;
    const end = new Endpoint(segment, "topic", name, handle, this, segment.core.topicScratch, 7);
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    const info = (what: number) => end.core.topicInfo(handle, what, 0);
    this.maxMessage = info(k.TOPIC_INFO_MAX_MESSAGE);
    this.depth = info(k.TOPIC_INFO_DEPTH);
    this.subscribers = info(k.TOPIC_INFO_SUBSCRIBERS);
    this.history = info(k.TOPIC_INFO_HISTORY);
    const policy = info(k.TOPIC_INFO_POLICY);
    end.checkGeometry(this.maxMessage, this.depth, this.subscribers, this.history, policy);
    this.policy = policy === k.TOPIC_POLICY_OVERWRITE ? "overwrite" : "block";
    this.bytes = end.bytes;
    this.end = end;
    this.#loan = end.core.topicLoan;
    this.#publish = end.core.topicPublish;
  }

  /** @internal Opens (or creates) the topic `name` of `map`: Segment.topic(). */
  static open(map: Mapping, name: string, options: TopicOptions = {}): Topic {
    const k = map.constants;
    map.checkAccess(name, options, "topic", options?.wait ?? "adaptive");
    const maxMessage = checkInteger(
      options.maxMessage ?? 1024,
      "maxMessage",
      1,
      k.TOPIC_MAX_MESSAGE,
      `an integer from 1 to ${k.TOPIC_MAX_MESSAGE} for topic "${name}"`,
    );
    const powerOfTwo = `a power of two from ${k.TOPIC_MIN_DEPTH} to ${k.TOPIC_MAX_DEPTH} for topic "${name}"`;
    const depth = checkInteger(
      options.depth ?? 64,
      "depth",
      k.TOPIC_MIN_DEPTH,
      k.TOPIC_MAX_DEPTH,
      powerOfTwo,
    );
    if ((depth & (depth - 1)) !== 0) {
      throw argumentError("range", `Invalid depth ${depth}: it must be ${powerOfTwo}`);
    }
    const subscribers = checkInteger(options.subscribers ?? 16, "subscribers", 1, k.TOPIC_MAX_SUBSCRIBERS);
    const history = checkInteger(
      options.history ?? 0,
      "history",
      0,
      depth,
      `an integer from 0 to the depth (${depth}) for topic "${name}"`,
    );
    const policy = options.policy ?? "block";
    if (policy !== "block" && policy !== "overwrite") {
      throw argumentError(
        "type",
        `Invalid policy ${JSON.stringify(policy)}: it must be "block" or "overwrite"`,
      );
    }
    const p2 = (subscribers | (history << 8) | (policy === "overwrite" ? 0x80000000 : 0)) >>> 0;
    return map.cached(`topic:${name}`, () => {
      const found = map.findOrCreate(k.KIND_TOPIC, name, options, maxMessage, depth, p2);
      return new Topic(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  /**
   * Takes the publisher role (done on first publish anyway). Returns true if
   * the previous publisher had died (its unpublished loan is dropped). Throws
   * `Exists` if a live process publishes.
   */
  attachPublisher(): boolean {
    const end = this.end;
    this.segment.assertOpen();
    const status = end.core.topicPublisherAttach(this.handle);
    if (status === -end.k.EXISTS) {
      const pid = end.core.topicInfo(this.handle, end.k.TOPIC_INFO_PUBLISHER, 0);
      throw new WshmError(
        "Exists",
        `Cannot publish to topic "${this.name}": process ${pid} is its publisher`,
      );
    }
    if (status < 0) end.fail(status, "attach to");
    this.#publisher = true;
    return status === end.k.OWNER_DIED;
  }

  /** Gives the publisher role up (an unpublished loan is dropped). */
  detachPublisher(): void {
    if (this.#publisher) this.end.core.topicPublisherDetach(this.handle);
    this.#publisher = false;
  }

  #ensurePublisher(): void {
    if (!this.#publisher) this.attachPublisher();
  }

  #tooLarge(length: number): never {
    throw new WshmError(
      "TooLarge",
      `Cannot publish ${length} bytes to topic "${this.name}": its messages carry at most ${this.maxMessage}`,
    );
  }

  #check(length: number, type: number): void {
    checkLength(length);
    checkType(type);
    if (length > this.maxMessage) this.#tooLarge(length);
  }

  /** Loans the next message's bytes without waiting: its offset in `bytes`, or -1 if a subscriber holds the slot. */
  tryLoanAt(length: number, type = 0): number {
    this.#ensurePublisher();
    if ((length >>> 0) !== length || (type >>> 0) !== type) this.#check(length, type);
    const r = this.#loan(this.handle, length, type);
    if (r >= 0) return r;
    if (r === -this.end.k.FULL) return -1;
    this.#check(length, type);
    this.end.fail(r, `loan ${length} bytes in`);
  }

  /** Loans the next message's bytes, waiting for room under the "block" policy: its offset in `bytes`. */
  loanAt(length: number, options?: TopicPublishOptions): number {
    checkCallOptions(options);
    this.#ensurePublisher();
    const type = options?.type ?? 0;
    this.#check(length, type);
    const end: Endpoint = this.end;
    const r = end.core.topicLoanWait(
      this.handle,
      length,
      type,
      timeoutOption(options?.timeoutMs),
      end.spins(options),
    );
    if (r >= 0) return r;
    end.fail(r, `loan ${length} bytes in`);
  }

  /** Loans the next message's bytes (see loanAt) as a view to fill in place; `commit()` publishes it. */
  loan(length: number, options?: TopicPublishOptions): Uint8Array {
    const at = this.loanAt(length, options);
    return this.bytes.subarray(at, at + length);
  }

  /** Publishes the loaned message to every subscriber. */
  commit(): void {
    const r = this.#publish(this.handle);
    if (r < 0) this.end.fail(r, "publish to");
  }

  /** Drops the loan without publishing. */
  abort(): void {
    this.end.core.topicAbort(this.handle);
  }

  /** Publishes a copy of `message` unless that would have to wait: false then. */
  tryPublish(message: Message, options?: { type?: number }): boolean {
    const length = messageLength(message);
    const at = this.tryLoanAt(length, options?.type ?? 0);
    if (at < 0) return false;
    writeMessage(this.bytes, at, message);
    this.#publish(this.handle);
    return true;
  }

  /** Publishes a copy of `message`, waiting for room under the "block" policy. */
  publish(message: Message, options?: TopicPublishOptions): void {
    const at = this.loanAt(messageLength(message), options);
    writeMessage(this.bytes, at, message);
    this.#publish(this.handle);
  }

  /** Publishes a copy of `message`, waiting for room without blocking the event loop. */
  async publishAsync(message: Message, options?: TopicPublishOptions): Promise<void> {
    checkCallOptions(options);
    if (this.tryPublish(message, options)) return;
    const length = messageLength(message);
    const type = options?.type ?? 0;
    const end: Endpoint = this.end;
    const core = end.core;
    // Fill and publish inside the step that loaned, so no other task publishes a half-filled message.
    const step = (flags: number) => {
      const r = core.topicLoanStep(this.handle, length, type, flags);
      if (r >= 0) {
        writeMessage(this.bytes, r, message);
        this.#publish(this.handle);
      }
      return r;
    };
    const r = await end.waitAsync(step, () => core.topicCancelWait(this.handle, 0), options, options?.signal);
    if (r < 0) end.fail(r, `publish ${length} bytes to`);
  }

  /**
   * Attaches a new subscriber. It gets every message published from now on
   * (and up to `history` earlier ones). Throws `Busy` if `subscribers` are
   * attached already.
   */
  subscribe(): TopicSubscriber {
    this.segment.assertOpen();
    const index = this.end.core.topicSubscriberAttach(this.handle);
    if (index < 0) {
      if (index === -this.end.k.FULL) {
        throw new WshmError(
          "Busy",
          `Cannot subscribe to topic "${this.name}": all ${this.subscribers} subscriber records are taken`,
        );
      }
      this.end.fail(index, "subscribe to");
    }
    const subscriber = new TopicSubscriber(this, index, () => this.#subscribed.delete(subscriber));
    this.#subscribed.add(subscriber);
    return subscriber;
  }

  /** The topic's numbers, with one row per attached subscriber. */
  stats(): TopicStats {
    const core = this.end.core;
    const k = this.end.k;
    const info = (what: number, index = 0) => core.topicInfo(this.handle, what, index);
    const published = info(k.TOPIC_INFO_HEAD);
    const attached: TopicSubscriberStats[] = [];
    for (let index = 0; index < this.subscribers; index++) {
      const pid = info(k.TOPIC_INFO_SUBSCRIBER_PID, index);
      if (pid === 0) continue;
      const cursor = info(k.TOPIC_INFO_SUBSCRIBER_CURSOR, index);
      attached.push({
        index,
        pid,
        cursor,
        lag: cursor < 0 ? 0 : Math.max(0, published - cursor),
        missed: info(k.TOPIC_INFO_SUBSCRIBER_MISSED, index),
        received: info(k.TOPIC_INFO_SUBSCRIBER_RECEIVED, index),
      });
    }
    return {
      maxMessage: this.maxMessage,
      depth: this.depth,
      subscribers: this.subscribers,
      history: this.history,
      policy: this.policy,
      publisherPid: info(k.TOPIC_INFO_PUBLISHER),
      published,
      attached,
    };
  }

  /** Detaches this handle's subscribers and gives the publisher role up (the segment's close() does it too). */
  detach(): void {
    for (const subscriber of [...this.#subscribed]) subscriber.close();
    this.detachPublisher();
  }

  /** The same as detach(). */
  close(): void {
    this.detach();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
