/**
 * A BroadcastChannel across processes: the Web API's shape (`postMessage`,
 * `onmessage` / `addEventListener("message")`, `close`), with messages that
 * reach every other BroadcastChannel of the same name in any process on this
 * machine, under Deno, Node or Bun alike. Values travel as MessagePack
 * (@msgpack/msgpack), so every runtime decodes what another encoded.
 *
 * Each name is a segment `/wshm-bc-<name>` holding a topic ("block" policy:
 * nothing is lost; a sender waits at most `postTimeoutMs` for a receiver that
 * lags `depth` messages behind, and a dead receiver is reaped) and a mutex
 * that lets one sender at a time be the topic's publisher. The segment is
 * created by the first channel of that name and removed by the last one to
 * close (a `retired` flag, set under the mutex before the unlink, makes a
 * channel that opened it in between start a fresh one).
 *
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { Segment } from "./segment.ts";
import type { Topic, TopicSubscriber } from "./topic.ts";
import type { Mutex } from "./mutex.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkInteger, shown } from "./names.ts";

export interface BroadcastChannelOptions {
  /** The longest encoded message in bytes (default 65536). Used by the first channel of the name. */
  maxMessage?: number;
  /** Messages a receiver may lag behind before senders wait (default 64, a power of two). */
  depth?: number;
  /** How long postMessage waits for a lagging receiver before it throws `Timeout` (default 1000 ms). */
  postTimeoutMs?: number;
}

/** An event listener, declared here so that the types need no DOM lib. */
type Listener = (event: Event) => void;

/** Bytes before each message: the sending channel's id, so a channel skips its own messages. */
const HEADER = 8;
const TOPIC = "messages";
const LOCK = "senders";
const FLAGS = "flags";
const SEGMENT_SIZE_SLACK = 1 << 16;

/** The segment name of a channel name: kept readable when it is short and plain, else hashed. */
export function segmentNameOf(name: string): string {
  if (/^[A-Za-z0-9._-]{1,64}$/.test(name)) return `/wshm-bc-${name}`;
  // FNV-1a, 64 bits: a stable, dependency-free name for any string.
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(name)) {
    h = ((h ^ BigInt(byte)) * 0x100000001b3n) & 0xFFFFFFFFFFFFFFFFn;
  }
  return `/wshm-bc-h${h.toString(16).padStart(16, "0")}`;
}

let nextId = 1;
function channelId(): bigint {
  // Unique among every channel of every process: the pid and a counter.
  return (BigInt(process.pid) << 32n) | BigInt(nextId++);
}

interface Opened {
  segment: Segment;
  topic: Topic;
  lock: Mutex;
  flags: Uint8Array;
  subscriber: TopicSubscriber;
}

/**
 * A cross-process BroadcastChannel.
 *
 * @example
 * ```ts
 * import { BroadcastChannel } from "wshm";
 * const a = new BroadcastChannel("example-news");
 * const b = new BroadcastChannel("example-news");
 * b.onmessage = (event) => {
 *   console.log(event.data); // { hello: "world" }
 *   a.close();
 *   b.close();
 * };
 * a.postMessage({ hello: "world" });
 * ```
 */
export class BroadcastChannel extends EventTarget {
  readonly name: string;
  #opened: Opened | undefined;
  readonly #id: bigint;
  readonly #postTimeoutMs: number;
  readonly #header = new Uint8Array(HEADER);
  #onmessage: ((event: MessageEvent) => void) | null = null;
  #onmessageerror: ((event: MessageEvent) => void) | null = null;
  #loop: Promise<void> | undefined;
  readonly #stop = new AbortController();

  constructor(name: string, options: BroadcastChannelOptions = {}) {
    super();
    if (arguments.length === 0) throw argumentError("type", "BroadcastChannel needs a name");
    this.name = String(name);
    const maxMessage = checkInteger(options.maxMessage ?? 65536, "maxMessage", 1, 1 << 20);
    const depth = checkInteger(options.depth ?? 64, "depth", 2, 65536);
    this.#postTimeoutMs = checkInteger(options.postTimeoutMs ?? 1000, "postTimeoutMs", 0, 2 ** 31);
    this.#id = channelId();
    new DataView(this.#header.buffer).setBigUint64(0, this.#id, true);
    this.#opened = open(segmentNameOf(this.name), maxMessage + HEADER, depth);
    this.#loop = this.#receive();
  }

  /** Sends `message` to every other channel of this name (in any process). */
  postMessage(message: unknown): void {
    const opened = this.#opened;
    if (opened === undefined) {
      throw new WshmError("Closed", `Cannot post to BroadcastChannel "${this.name}": it is closed`);
    }
    const body = encode(message);
    const topic = opened.topic;
    if (body.length + HEADER > topic.maxMessage) {
      throw new WshmError(
        "TooLarge",
        `Cannot post ${body.length} bytes to BroadcastChannel "${this.name}": its messages carry at most ${
          topic.maxMessage - HEADER
        }`,
      );
    }
    // One sender at a time is the topic's publisher; a sender that died holding the lock leaves
    // nothing half published (its loan was never stamped), so the next one just carries on.
    const held = opened.lock.lock({ timeoutMs: this.#postTimeoutMs });
    try {
      if (held.ownerDied) held.consistent();
      topic.attachPublisher();
      const view = topic.loan(body.length + HEADER, { timeoutMs: this.#postTimeoutMs });
      view.set(this.#header, 0);
      view.set(body, HEADER);
      topic.commit();
    } finally {
      topic.detachPublisher();
      held.unlock();
    }
  }

  get onmessage(): ((event: MessageEvent) => void) | null {
    return this.#onmessage;
  }

  set onmessage(handler: ((event: MessageEvent) => void) | null) {
    if (this.#onmessage) this.removeEventListener("message", this.#onmessage as unknown as Listener);
    this.#onmessage = typeof handler === "function" ? handler : null;
    if (this.#onmessage) this.addEventListener("message", this.#onmessage as unknown as Listener);
  }

  get onmessageerror(): ((event: MessageEvent) => void) | null {
    return this.#onmessageerror;
  }

  set onmessageerror(handler: ((event: MessageEvent) => void) | null) {
    if (this.#onmessageerror) {
      this.removeEventListener("messageerror", this.#onmessageerror as unknown as Listener);
    }
    this.#onmessageerror = typeof handler === "function" ? handler : null;
    if (this.#onmessageerror) {
      this.addEventListener("messageerror", this.#onmessageerror as unknown as Listener);
    }
  }

  async #receive(): Promise<void> {
    const opened = this.#opened!;
    const own = this.#id;
    while (this.#opened !== undefined) {
      let bytes: Uint8Array;
      try {
        bytes = await opened.subscriber.receiveAsync({ signal: this.#stop.signal });
      } catch (error) {
        if (this.#opened === undefined) return;
        const code = (error as WshmError).code;
        // A dead sender is not our error: the next one carries on.
        if (code === "PeerDied") continue;
        this.dispatchEvent(new MessageEvent("messageerror", { data: error }));
        continue;
      }
      if (this.#opened === undefined) return;
      if (bytes.length < HEADER) continue;
      if (new DataView(bytes.buffer, bytes.byteOffset, HEADER).getBigUint64(0, true) === own) continue;
      let data: unknown;
      try {
        data = decode(bytes.subarray(HEADER));
      } catch (error) {
        this.dispatchEvent(new MessageEvent("messageerror", { data: error }));
        continue;
      }
      this.dispatchEvent(new MessageEvent("message", { data }));
    }
  }

  /** Stops receiving and sending; the last channel of the name removes its segment. */
  close(): void {
    const opened = this.#opened;
    if (opened === undefined) return;
    this.#opened = undefined;
    const { segment, topic, lock, flags, subscriber } = opened;
    try {
      const held = lock.lock({ timeoutMs: 5000 });
      try {
        if (held.ownerDied) held.consistent();
        subscriber.close();
        const stats = topic.stats();
        if (stats.attached.length === 0 && flags[0] === 0) {
          flags[0] = 1; // retired: a channel that opened it meanwhile starts a fresh one
          segment.unlink();
        }
      } finally {
        held.unlock();
      }
    } finally {
      // Abort our pending wait and wake it, so that the receive loop ends now, not a slice later.
      this.#stop.abort();
      subscriber.wakeAll();
      segment.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** @internal Resolves when the receive loop has stopped (after close()). */
  get stopped(): Promise<void> {
    return this.#loop ?? Promise.resolve();
  }

  override toString(): string {
    return `BroadcastChannel(${shown(this.name)})`;
  }
}

/** Opens (or creates) the channel segment `segmentName` and subscribes, retrying past a retired one. */
function open(segmentName: string, maxMessage: number, depth: number): Opened {
  for (let attempt = 0; attempt < 8; attempt++) {
    let segment: Segment;
    try {
      segment = Segment.open(segmentName);
    } catch (error) {
      if ((error as WshmError).code !== "NotFound") throw error;
      const slotBytes = Math.ceil((16 + maxMessage) / 64) * 64;
      const size = Math.ceil((depth * slotBytes + SEGMENT_SIZE_SLACK) / 65536) * 65536;
      try {
        segment = Segment.create(segmentName, { size });
      } catch (created) {
        if ((created as WshmError).code === "Exists") continue;
        throw created;
      }
    }
    try {
      const lock = segment.mutex(LOCK);
      const flags = segment.bytes(FLAGS, 64);
      const topic = segment.topic(TOPIC, { maxMessage, depth, subscribers: 64, policy: "block" });
      const held = lock.lock({ timeoutMs: 5000 });
      try {
        if (held.ownerDied) held.consistent();
        if (flags[0] === 0) return { segment, topic, lock, flags, subscriber: topic.subscribe() };
      } finally {
        held.unlock();
      }
      // The last channel closed it while we opened it: start over with a fresh segment.
      segment.close();
    } catch (error) {
      segment.close();
      throw error;
    }
  }
  throw new WshmError(
    "Busy",
    `Cannot open BroadcastChannel segment "${segmentName}": it was retired 8 times in a row`,
  );
}
