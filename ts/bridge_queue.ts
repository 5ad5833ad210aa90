/**
 * A work queue across hosts, by demand: an importing bridge asks for work
 * only when its local queue has room (P.NAME.pull, request/reply, a queue
 * group so that one exporter answers each pull), and the exporter answers
 * with a frame of messages it took from its local queue. So the exporter's
 * local consumers and every remote host's consumers share the work: each
 * message goes to one consumer somewhere, and no bridge holds more than one
 * frame of it.
 *
 *   producers -> queue <- exporter  <==P.NAME.pull== importer -> queue -> consumers (host B)
 *                  ^                 ==frame======>
 *              consumers (host A)   <==P.NAME.ack=== (the frame is in B's queue)
 *
 * Delivery is at-most-once: a message leaves the exporter's queue once. If
 * the frame is lost (NATS restarting, an importer killed between the reply
 * and its local sends) those messages are lost, never delivered twice. The
 * accounting is exact: the exporter counts every message it sent (`sent`)
 * and, until the importer's ack arrives, the frames still unconfirmed
 * (`errors` when 30 s pass without one); the importer counts what it put
 * into its queue (`received`). With no fault, sent = the importers'
 * received.
 *
 * @module
 */

import type { Msg } from "@nats-io/transport-node";
import type { Queue } from "./queue.ts";
import type { QueueMessage } from "./queue_message.ts";
import {
  type BridgeContext,
  BridgedBase,
  type BridgedObject,
  type BridgedObjectStats,
  failedState,
  isCode,
  pause,
  waitForWake,
} from "./bridge_context.ts";
import { decodeFrame, FrameBuilder } from "./bridge_wire.ts";

const FRAME_RECORDS = 1024;
const FRAME_BYTES = 256 * 1024;
/** How long an exporter waits for the first message of a pull when its queue is empty. */
const PULL_WAIT_MS = 500;
const ACK_TIMEOUT_MS = 30_000;

/** Exports a local queue: remote importers pull its messages. */
export class QueueExport extends BridgedBase implements BridgedObject {
  readonly #queue: Queue;
  readonly #epoch = (Math.random() * 0xFFFFFFFF) >>> 0 || 1;
  readonly #pulls: Msg[] = [];
  /** Frames sent and not yet acknowledged: batch id -> [messages, sent at]. */
  readonly #unconfirmed = new Map<number, [number, number]>();
  /** A message read that did not fit the last frame: it goes first in the next. */
  #carried: { type: number; bytes: Uint8Array } | null = null;
  #batch = 0;
  #wake: (() => void) | null = null;

  constructor(ctx: BridgeContext, name: string, queue: Queue) {
    super(ctx, name);
    this.#queue = queue;
  }

  async run(): Promise<void> {
    const nc = await this.ctx.ready;
    if (nc === null) return;
    const signal = this.ctx.signal;
    nc.subscribe(this.subjects.pull, {
      queue: this.subjects.group,
      callback: (_e, msg) => {
        this.counters.natsReceived++;
        if (this.#pulls.length >= 64) return; // the puller times out and asks again
        this.#pulls.push(msg);
        this.#wake?.();
      },
    });
    nc.subscribe(this.subjects.ack, { callback: (_e, msg) => this.#onAck(msg) });
    const frame = new FrameBuilder(Math.min(FRAME_BYTES, this.ctx.maxPayload()), FRAME_RECORDS);
    this.counters.state = "active";
    while (!signal.aborted) {
      this.#expireUnconfirmed();
      const pull = this.#pulls.shift();
      if (pull === undefined) {
        await waitForWake(signal, (wake) => (this.#wake = wake), 1000);
        this.#wake = null;
        continue;
      }
      try {
        await this.#answer(pull, frame);
      } catch (error) {
        if (signal.aborted) break;
        this.counters.state = failedState(error);
        await pause(200, signal);
      }
    }
  }

  async #answer(pull: Msg, frame: FrameBuilder): Promise<void> {
    let max = 0;
    try {
      const asked = JSON.parse(new TextDecoder().decode(pull.data));
      max = Number.isSafeInteger(asked?.max) ? Math.min(Math.max(asked.max, 0), FRAME_RECORDS) : 0;
    } catch {
      // max stays 0
    }
    if (max === 0 || pull.reply === undefined || pull.reply === "") {
      this.counters.malformed++;
      return;
    }
    if (this.#carried !== null && frame.add(this.#carried.type, this.#carried.bytes)) this.#carried = null;
    while (frame.count < max && this.#carried === null) {
      let message: QueueMessage | null = this.#queue.tryRead();
      if (message === null && frame.count === 0) {
        try {
          message = await this.#queue.readAsync({ timeoutMs: PULL_WAIT_MS });
        } catch (error) {
          if (!isCode(error, "Timeout")) throw error;
        }
      }
      if (message === null) break;
      if (!frame.fitsAlone(message.length)) {
        this.ctx.log(
          `queue ${this.name}: a ${message.length}-byte message exceeds the NATS payload limit; dropped`,
        );
        this.counters.missed++;
        message.release();
        continue;
      }
      if (!frame.add(message.type, message.bytes)) {
        this.#carried = { type: message.type, bytes: message.copy() };
      }
      message.release();
    }
    const count = frame.count;
    const id = ++this.#batch;
    const bytes = frame.finish(id, this.#epoch);
    if (!pull.respond(bytes)) {
      this.counters.missed += count;
      return;
    }
    this.counters.natsSent++;
    this.counters.sent += count;
    if (count > 0) this.#unconfirmed.set(id, [count, Date.now()]);
  }

  #onAck(msg: Msg): void {
    this.counters.natsReceived++;
    let ack: { epoch?: unknown; batch?: unknown };
    try {
      ack = JSON.parse(new TextDecoder().decode(msg.data));
    } catch {
      this.counters.malformed++;
      return;
    }
    // Acks for another exporter of the same name (a queue group shares the subject) are not ours.
    if (ack?.epoch !== this.#epoch || typeof ack.batch !== "number") return;
    this.#unconfirmed.delete(ack.batch);
  }

  #expireUnconfirmed(): void {
    const now = Date.now();
    for (const [id, [count, at]] of this.#unconfirmed) {
      if (now - at > ACK_TIMEOUT_MS) {
        this.#unconfirmed.delete(id);
        this.counters.errors += count;
        this.ctx.log(
          `queue ${this.name}: ${count} messages sent in batch ${id} were never acknowledged (lost?)`,
        );
      }
    }
  }

  close(): void {
    this.#wake?.();
    if (this.#carried !== null) {
      // Not lost: it goes back into the local queue if there is room.
      if (!this.#queue.trySend(this.#carried.bytes, this.#carried.type)) this.counters.missed++;
      this.#carried = null;
    }
  }

  stats(): BridgedObjectStats {
    let unconfirmed = 0;
    for (const [count] of this.#unconfirmed.values()) unconfirmed += count;
    return { ...this.counters.stats(this.name, "queue", "export"), unconfirmed } as BridgedObjectStats;
  }
}

/** Imports a remote queue: this bridge pulls work into the local queue while it has room. */
export class QueueImport extends BridgedBase implements BridgedObject {
  readonly #queue: Queue;

  constructor(ctx: BridgeContext, name: string, queue: Queue) {
    super(ctx, name);
    this.#queue = queue;
  }

  async run(): Promise<void> {
    const nc = await this.ctx.ready;
    if (nc === null) return;
    const signal = this.ctx.signal;
    const slots = this.#queue.stats().slots;
    while (!signal.aborted) {
      if (!this.ctx.connected()) {
        await pause(100, signal);
        continue;
      }
      const room = slots - this.#queue.stats().length;
      if (room <= 0) {
        await pause(5, signal);
        continue;
      }
      let reply: Msg;
      try {
        this.counters.natsSent++;
        reply = await nc.request(
          this.subjects.pull,
          JSON.stringify({ max: Math.min(room, FRAME_RECORDS) }),
          {
            timeout: PULL_WAIT_MS + this.ctx.requestTimeoutMs,
          },
        );
        this.counters.natsReceived++;
      } catch (error) {
        if (signal.aborted) break;
        const e = error as { isNoResponders?: () => boolean };
        this.counters.state = typeof e?.isNoResponders === "function" && e.isNoResponders()
          ? "waiting: no bridge exports it"
          : failedState(error);
        await pause(200, signal);
        continue;
      }
      this.counters.state = "active";
      const frame = decodeFrame(reply.data);
      if (frame === null) {
        // Not an exporter's frame: a foreign responder in the queue group. Not asked again at once.
        this.counters.malformed++;
        await pause(200, signal);
        continue;
      }
      const { slotSize } = this.#queue.stats();
      for (let i = 0; i < frame.payloads.length && !signal.aborted; i++) {
        const type = frame.types[i];
        const payload = frame.payloads[i];
        if (type > 0x7FFFFFFF || payload.length > slotSize) {
          this.counters.malformed++;
          this.counters.missed++;
          continue;
        }
        // Local producers may fill the queue too: then this waits, holding one frame at most.
        while (!signal.aborted) {
          try {
            await this.#queue.sendAsync(payload, { type, timeoutMs: 1000 });
            this.counters.received++;
            break;
          } catch (error) {
            if (!isCode(error, "Timeout")) {
              this.counters.missed++;
              this.counters.state = failedState(error);
              break;
            }
          }
        }
      }
      if (frame.payloads.length > 0) {
        try {
          nc.publish(this.subjects.ack, JSON.stringify({ epoch: frame.epoch, batch: frame.first }));
          this.counters.natsSent++;
        } catch {
          // Disconnected: the exporter counts the frame unconfirmed.
        }
      }
    }
  }

  close(): void {}

  stats(): BridgedObjectStats {
    return this.counters.stats(this.name, "queue", "import");
  }
}
