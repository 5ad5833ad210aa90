/**
 * A topic across hosts. The exporting bridge is one subscriber of the local
 * topic; it packs what it reads into batch frames (bridge_wire.ts) on
 * P.NAME.topic, a frame as soon as nothing more is ready now, so an idle
 * topic costs one NATS message per message and a busy one a frame of up to
 * 1024 records. Every importing bridge is the publisher of its own local copy
 * of the topic, so every host's subscribers get every message, in order.
 *
 *   publisher -> topic -> exporter (subscriber) ==P.NAME.topic==> importer (publisher) -> topic -> subscribers
 *                                               <==P.NAME.credit== (block policy)
 *
 * The topic's policy holds across the bridge:
 *   - "overwrite": nobody waits. An importer that falls more than `window`
 *     messages behind drops its oldest frames, and gaps in the exporter's
 *     numbering (NATS dropped a slow consumer's messages, the bridge was
 *     disconnected) are counted exactly in the importer's `missed`.
 *   - "block": credit. Each importer says how far it has published locally
 *     (P.NAME.credit, at least every 500 ms); the exporter does not send a
 *     message more than `window` past the slowest live importer, so it stops
 *     reading, and the local publisher blocks, as it would for a slow local
 *     subscriber. An importer silent for 3 s is dropped from the credit
 *     accounting, as the core reaps a dead subscriber. Memory in each bridge
 *     stays below `window` messages.
 *
 * Delivery is at-most-once per importer (NATS core carries no
 * acknowledgement), with every loss the importer can see in `missed`.
 *
 * @module
 */

import type { Msg, Subscription } from "@nats-io/transport-node";
import type { Topic } from "./topic.ts";
import type { TopicSubscriber } from "./topic_subscriber.ts";
import type { TopicMessage } from "./topic_message.ts";
import {
  type BridgeContext,
  BridgedBase,
  type BridgedObject,
  type BridgedObjectStats,
  failedState,
  isCode,
  pause,
  unsubscribe,
  waitForWake,
} from "./bridge_context.ts";
import { decodeFrame, type Description, type Frame, FrameBuilder, RECORD_HEADER } from "./bridge_wire.ts";

/** Bytes of messages an importer may hold: the window is chosen so that it stays below this. */
const WINDOW_BYTES = 8 << 20;
/** Records in one frame at most. */
const FRAME_RECORDS = 1024;
/** A frame's bytes at most (below NATS's default max_payload of 1 MiB). */
const FRAME_BYTES = 256 * 1024;
/** An importer not heard of for this long is no longer waited for. */
const IMPORTER_SILENCE_MS = 3000;
const CREDIT_INTERVAL_MS = 500;

/** Messages an importer may be behind before a "block" exporter waits. */
export function topicWindow(maxMessage: number, depth: number): number {
  return Math.max(depth, Math.min(65536, Math.floor(WINDOW_BYTES / (maxMessage + RECORD_HEADER))));
}

function randomEpoch(): number {
  return (Math.random() * 0xFFFFFFFF) >>> 0 || 1;
}

/** Describes a local topic for importers. */
export function describeTopic(topic: Topic): Description {
  const s = topic.stats();
  return {
    kind: "topic",
    maxMessage: s.maxMessage,
    depth: s.depth,
    subscribers: s.subscribers,
    history: s.history,
    policy: s.policy,
    window: topicWindow(s.maxMessage, s.depth),
  };
}

interface ImporterCredit {
  /** Seq of the next message it has not published locally. */
  next: number;
  seen: number;
}

/** Exports a local topic: this bridge subscribes to it and publishes frames on NATS. */
export class TopicExport extends BridgedBase implements BridgedObject {
  readonly #topic: Topic;
  readonly #block: boolean;
  readonly #window: number;
  readonly #epoch = randomEpoch();
  readonly #importers = new Map<string, ImporterCredit>();
  #subscriber: TopicSubscriber | null = null;
  /** Seq, in this exporter's numbering, of the next message it reads (skipped messages count). */
  #next = 0;
  #lastPublish = 0;
  #wake: (() => void) | null = null;

  constructor(ctx: BridgeContext, name: string, topic: Topic) {
    super(ctx, name);
    this.#topic = topic;
    const d = describeTopic(topic) as Extract<Description, { kind: "topic" }>;
    this.#block = d.policy === "block";
    this.#window = d.window;
  }

  async run(): Promise<void> {
    const nc = await this.ctx.ready;
    if (nc === null) return;
    const credits = this.#block
      ? nc.subscribe(this.subjects.credit, { callback: (_e, msg) => this.#onCredit(msg) })
      : null;
    const subscriber = this.#topic.subscribe();
    this.#subscriber = subscriber;
    // A run that fails is run again by the bridge: its subscriber record must
    // go with it, or under "block" the topic would wait for a record that this
    // live process no longer reads (and that no reap would ever free).
    try {
      await this.#forward(subscriber);
    } finally {
      unsubscribe(credits);
      subscriber.close();
      this.#subscriber = null;
    }
  }

  async #forward(subscriber: TopicSubscriber): Promise<void> {
    const signal = this.ctx.signal;
    const frame = new FrameBuilder(
      Math.min(FRAME_BYTES, this.ctx.maxPayload()),
      Math.min(FRAME_RECORDS, this.#window),
    );
    this.counters.state = "active";
    let first = 0;
    while (!signal.aborted) {
      let message: TopicMessage | null;
      try {
        message = frame.count > 0
          ? subscriber.tryRead()
          : await subscriber.readAsync({ timeoutMs: 1000, signal });
      } catch (error) {
        if (signal.aborted) break;
        if (isCode(error, "Timeout")) continue;
        if (isCode(error, "PeerDied")) {
          this.ctx.log(`topic ${this.name}: the local publisher died; waiting for the next`);
          continue;
        }
        this.counters.state = failedState(error);
        await pause(500, signal);
        continue;
      }
      if (message === null) {
        // Nothing more ready now: the frame goes.
        await this.#send(frame, first);
        continue;
      }
      this.counters.received++;
      if (message.skipped > 0 && frame.count > 0) {
        // A frame's records are consecutive: the gap starts a new one, so that importers count it.
        await this.#send(frame, first);
      }
      this.counters.missed += message.skipped;
      this.#next += message.skipped;
      if (frame.count === 0) first = this.#next;
      if (!frame.fitsAlone(message.length)) {
        this.ctx.log(
          `topic ${this.name}: a ${message.length}-byte message exceeds the NATS payload limit; dropped`,
        );
        subscriber.release();
        await this.#skip(frame, first);
        continue;
      }
      if (!frame.add(message.type, message.bytes)) {
        await this.#send(frame, first);
        first = this.#next;
        frame.add(message.type, message.bytes);
      }
      if (!subscriber.release()) {
        // Overwritten while it was copied ("overwrite" policy): torn bytes, never sent.
        frame.dropLast();
        await this.#skip(frame, first);
        continue;
      }
      this.#next++;
      if (frame.count >= frame.maxRecords) await this.#send(frame, first);
    }
  }

  /**
   * One message read is not sent: counted, and the frame so far goes first,
   * because a frame's records are consecutive: the next message starts a new
   * frame, and importers count the gap.
   */
  async #skip(frame: FrameBuilder, first: number): Promise<void> {
    this.counters.missed++;
    await this.#send(frame, first);
    this.#next++;
  }

  /** Sends the frame (first record's seq `first`), waiting for credit under "block". */
  async #send(frame: FrameBuilder, first: number): Promise<void> {
    if (frame.count === 0) return;
    const count = frame.count;
    const end = first + count;
    const signal = this.ctx.signal;
    while (!signal.aborted) {
      if (!this.ctx.connected()) {
        if (!this.#block) break;
        await pause(50, signal);
        continue;
      }
      if (!this.#block || this.#creditFor(end)) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 100);
      });
      this.#wake = null;
    }
    const bytes = frame.finish(first, this.#epoch);
    if (signal.aborted) return;
    const nc = this.ctx.connection();
    if (nc === null || !this.ctx.connected()) {
      // "overwrite" while disconnected: dropped here, and the importers count the gap.
      this.counters.missed += count;
      return;
    }
    try {
      nc.publish(this.subjects.topic, bytes);
    } catch (error) {
      // Closed or draining under us: those messages are lost here, and the importers count the gap.
      this.counters.missed += count;
      this.ctx.log(`topic ${this.name}: cannot publish a frame: ${failedState(error)}`);
      return;
    }
    this.#lastPublish = Date.now();
    this.counters.natsSent++;
    this.counters.sent += count;
  }

  /** True if every live importer has credit for messages up to `end` (exclusive); drops silent ones. */
  #creditFor(end: number): boolean {
    const now = Date.now();
    for (const [id, importer] of this.#importers) {
      if (now - importer.seen > IMPORTER_SILENCE_MS) {
        this.#importers.delete(id);
        this.ctx.log(
          `topic ${this.name}: importer ${id} silent for ${IMPORTER_SILENCE_MS} ms; no longer waited for`,
        );
        continue;
      }
      if (end - importer.next > this.#window) return false;
    }
    return true;
  }

  #onCredit(msg: Msg): void {
    this.counters.natsReceived++;
    let credit: { id?: unknown; epoch?: unknown; next?: unknown; idle?: unknown };
    try {
      credit = JSON.parse(new TextDecoder().decode(msg.data));
    } catch {
      this.counters.malformed++;
      return;
    }
    const { id, epoch, next, idle } = credit ?? {};
    if (typeof id !== "string" || id.length > 64 || typeof next !== "number" || !Number.isSafeInteger(next)) {
      this.counters.malformed++;
      return;
    }
    const now = Date.now();
    const known = this.#importers.get(id);
    if (known === undefined || epoch !== this.#epoch) {
      // A new importer, or one that knew an earlier exporter (or was dropped):
      // it starts from here; what it missed before, it counts by the gap.
      this.#importers.set(id, { next: this.#next, seen: now });
    } else {
      known.next = Math.max(known.next, Math.min(next, this.#next));
      known.seen = now;
      // An idle importer behind what was sent a while ago lost those frames on
      // the way (NATS dropped them): waiting for its credit would wait forever.
      if (idle === true && known.next < this.#next && now - this.#lastPublish > 1000) known.next = this.#next;
    }
    this.#wake?.();
  }

  close(): void {
    this.#subscriber?.close();
    this.#subscriber = null;
  }

  stats(): BridgedObjectStats {
    const s = this.counters.stats(this.name, "topic", "export");
    return { ...s, importers: this.#importers.size } as BridgedObjectStats;
  }
}

/** Imports a remote topic: this bridge is the publisher of the local copy. */
export class TopicImport extends BridgedBase implements BridgedObject {
  readonly #topic: Topic;
  readonly #block: boolean;
  readonly #window: number;
  readonly #id = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
  readonly #backlog: Frame[] = [];
  #backlogRecords = 0;
  #epoch = 0;
  /** Seq of the next message expected from the exporter. */
  #expected = -1;
  /** Seq of the next message not yet published locally. */
  #published = 0;
  #credited = -1;
  #idle = true;
  #subscription: Subscription | null = null;
  #attached = false;
  #wake: (() => void) | null = null;

  constructor(
    ctx: BridgeContext,
    name: string,
    topic: Topic,
    description: Extract<Description, { kind: "topic" }>,
  ) {
    super(ctx, name);
    this.#topic = topic;
    this.#block = topic.stats().policy === "block";
    this.#window = description.window;
  }

  async run(): Promise<void> {
    const nc = await this.ctx.ready;
    if (nc === null) return;
    const signal = this.ctx.signal;
    if (!this.#attached) {
      const tookOver = this.#topic.attachPublisher();
      this.#attached = true;
      if (tookOver) this.ctx.log(`topic ${this.name}: took the publisher role over from a dead bridge`);
    }
    unsubscribe(this.#subscription);
    this.#subscription = nc.subscribe(this.subjects.topic, { callback: (_e, msg) => this.#onFrame(msg) });
    let timer: ReturnType<typeof setInterval> | undefined;
    if (this.#block) {
      this.#credit();
      timer = setInterval(() => this.#credit(), CREDIT_INTERVAL_MS);
    }
    this.counters.state = "active";
    try {
      while (!signal.aborted) {
        const frame = this.#backlog.shift();
        if (frame === undefined) {
          this.#idle = true;
          if (this.#block && this.#credited !== this.#published) this.#credit();
          await waitForWake(signal, (wake) => (this.#wake = wake));
          this.#wake = null;
          continue;
        }
        this.#idle = false;
        this.#backlogRecords -= frame.payloads.length;
        await this.#publish(frame);
        this.#published = frame.first + frame.payloads.length;
        if (this.#block && this.#published - this.#credited >= this.#window / 4) this.#credit();
      }
    } finally {
      if (timer !== undefined) clearInterval(timer);
    }
  }

  async #publish(frame: Frame): Promise<void> {
    const signal = this.ctx.signal;
    const maxMessage = this.#topic.maxMessage;
    for (let i = 0; i < frame.payloads.length && !signal.aborted; i++) {
      const type = frame.types[i];
      const payload = frame.payloads[i];
      if (type > 0x7FFFFFFF || payload.length > maxMessage) {
        this.counters.malformed++;
        this.counters.missed++;
        continue;
      }
      try {
        if (this.#block) await this.#topic.publishAsync(payload, { type, signal });
        else this.#topic.publish(payload, { type });
        this.counters.received++;
      } catch (error) {
        if (signal.aborted) return;
        this.counters.missed++;
        this.counters.state = failedState(error);
      }
    }
  }

  #onFrame(msg: Msg): void {
    this.counters.natsReceived++;
    const frame = decodeFrame(msg.data);
    if (frame === null) {
      this.counters.malformed++;
      return;
    }
    const count = frame.payloads.length;
    if (frame.epoch !== this.#epoch || this.#expected < 0) {
      // The first frame, or a restarted exporter: its numbering starts here.
      this.#epoch = frame.epoch;
      this.#expected = frame.first;
      this.#published = frame.first;
      this.#credited = -1;
    }
    if (frame.first < this.#expected) {
      // Not after what came before: a replay or a foreign publisher on the subject.
      this.counters.malformed++;
      return;
    }
    this.counters.missed += frame.first - this.#expected;
    this.#expected = frame.first + count;
    if (this.#backlogRecords + count > this.#window) {
      if (this.#block) {
        // More than the credit allowed: the exporter did not wait for it. Dropped and counted.
        this.counters.missed += count;
        return;
      }
      while (this.#backlog.length > 0 && this.#backlogRecords + count > this.#window) {
        const dropped = this.#backlog.shift()!;
        this.#backlogRecords -= dropped.payloads.length;
        this.counters.missed += dropped.payloads.length;
      }
    }
    // The frame's views point into msg.data, which NATS gives us to keep.
    this.#backlog.push(frame);
    this.#backlogRecords += count;
    this.#wake?.();
  }

  #credit(): void {
    const nc = this.ctx.connection();
    if (nc === null || !this.ctx.connected()) return;
    const idle = this.#idle && this.#backlog.length === 0;
    try {
      nc.publish(
        this.subjects.credit,
        JSON.stringify({ id: this.#id, epoch: this.#epoch, next: this.#published, idle }),
      );
      this.counters.natsSent++;
      this.#credited = this.#published;
    } catch {
      // Disconnected: the next interval tries again.
    }
  }

  close(): void {
    this.#wake?.();
    unsubscribe(this.#subscription);
    this.#topic.detachPublisher();
  }

  stats(): BridgedObjectStats {
    return this.counters.stats(this.name, "topic", "import");
  }
}
