/**
 * The options, statistics and in-place message of a topic. Split from
 * topic.ts so the subscriber module can share them without a cycle.
 *
 * @module
 */

import { decodeJson, decodeText } from "./codec.ts";
import type { WaitMode } from "./wait.ts";

/** How a topic treats a subscriber that falls `depth` messages behind. */
export type TopicPolicy = "block" | "overwrite";

export interface TopicOptions {
  /** The longest message in bytes, 1 to 2^20 (default 1024). Ignored if the topic exists. */
  maxMessage?: number;
  /** Messages the topic holds, a power of two from 2 to 65536 (default 64). Ignored if it exists. */
  depth?: number;
  /** Subscribers attached at once, 1 to 64 (default 16). Ignored if it exists. */
  subscribers?: number;
  /** Messages a subscriber that attaches late gets from before it attached, 0 to depth (default 0). */
  history?: number;
  /**
   * "block" (default): the publisher waits until every attached subscriber
   * has released the message it would overwrite (dead subscribers are reaped);
   * "overwrite": the publisher never waits, and a lagging subscriber is told
   * how many messages it missed. Ignored if the topic exists.
   */
  policy?: TopicPolicy;
  /** Create the topic if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

export interface TopicWaitOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** This call's wait mode (default: the handle's). */
  wait?: WaitMode;
  /** Async calls only: abort the wait (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
}

export interface TopicPublishOptions extends TopicWaitOptions {
  /** A message type from 0 to 2^31 - 1 (default 0), handed to every subscriber with the message. */
  type?: number;
}

export interface TopicSubscriberStats {
  /** The subscriber record (0 to subscribers - 1). */
  index: number;
  pid: number;
  /** Seq of the next message it has not released. */
  cursor: number;
  /** Messages published and not yet released by it. */
  lag: number;
  /** Messages it never got whole (overwritten before it read them, or while it held them). */
  missed: number;
  /** Messages it released whole. */
  received: number;
}

export interface TopicStats {
  maxMessage: number;
  depth: number;
  /** Subscriber records (the most attached at once). */
  subscribers: number;
  history: number;
  policy: TopicPolicy;
  /** Pid of the publisher, 0 if none. */
  publisherPid: number;
  /** Messages published since creation: the seq of the next one. */
  published: number;
  /** The attached subscribers. */
  attached: TopicSubscriberStats[];
}

/** A message handed out in place by `TopicSubscriber.read()`; valid until `release()`. */
export class TopicMessage {
  /** Offset of the payload in `topic.bytes`. */
  at = 0;
  /** Payload bytes. */
  length = 0;
  /** The type the publisher gave. */
  type = 0;
  /** The message's sequence number: 0 for the first message the topic ever carried. */
  seq = 0;
  /** Messages skipped just before this one because they were overwritten (overwrite policy). */
  skipped = 0;
  readonly #topic: { readonly bytes: Uint8Array };

  /** @internal Made by its object, never by users. */
  constructor(topic: { readonly bytes: Uint8Array }) {
    this.#topic = topic;
  }

  /** A view of the payload in shared memory (no copy). */
  get bytes(): Uint8Array {
    return this.#topic.bytes.subarray(this.at, this.at + this.length);
  }

  /** A private copy of the payload. */
  copy(): Uint8Array {
    return this.#topic.bytes.slice(this.at, this.at + this.length);
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
