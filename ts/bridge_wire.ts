/**
 * What two bridges say to each other over NATS: the subjects of one bridged
 * object, the headers of a relayed call, and the batch frame that carries
 * topic and queue records. Every field a remote bridge sent is checked before
 * use: a foreign or hostile peer costs a dropped batch and a counter, never a
 * crash or a record that lies about its length.
 *
 * Subjects, for prefix P and object NAME (one token each, see checkBridgeName):
 *
 *   P.NAME.describe   request/reply: the exporter answers with the object's kind and shape (JSON)
 *   P.NAME.call       request/reply: a channel request; the reply is its response (queue group P.NAME)
 *   P.NAME.topic      publish: topic batches, exporter -> every importer
 *   P.NAME.credit     publish: importer -> exporter, "I have published up to seq N" (block policy)
 *   P.NAME.pull       request/reply: importer asks for up to N queue messages (queue group P.NAME)
 *   P.NAME.ack        publish: importer -> exporter, "batch B of N messages is in my queue"
 *
 * Batch frame (little-endian), one NATS message:
 *
 *   0   u32 magic  "wsb1" (0x31627377)
 *   4   u32 count  records that follow
 *   8   f64 first  topic: the seq of the first record in the exporter's numbering; queue: the batch id
 *   16  u32 epoch  random per exporter start (an importer resets its expectations when it changes)
 *   20  u32 reserved (0)
 *   24  records: u32 type, u32 length, then `length` bytes; no padding; nothing after the last
 *
 * @module
 */

import { argumentError, WshmError } from "./errors.ts";
import { shown } from "./names.ts";

/** Reply header: how the exporter's local call ended (absent means "ok"). */
export const HEADER_STATUS = "Wshm-Status";
/** Request header: how long the caller's side will wait, in ms (the exporter's local call uses it). */
export const HEADER_TIMEOUT = "Wshm-Timeout-Ms";

/** How a relayed channel call ended, as carried in HEADER_STATUS. */
export type CallStatus = "ok" | "failed" | "timeout" | "died" | "no-server" | "busy" | "too-large";

export const CALL_STATUSES: readonly CallStatus[] = [
  "ok",
  "failed",
  "timeout",
  "died",
  "no-server",
  "busy",
  "too-large",
];

const FRAME_MAGIC = 0x31627377;
export const FRAME_HEADER = 24;
export const RECORD_HEADER = 8;

const NAME_TOKEN = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * Checks an object name for bridging: 1 to 128 of `A-Z a-z 0-9 _ -`, so that it
 * is one NATS subject token (no `.`, `*`, `>` or space that would widen a
 * subscription to objects nobody named).
 */
export function checkBridgeName(name: unknown): string {
  if (typeof name !== "string" || !NAME_TOKEN.test(name)) {
    throw argumentError(
      "range",
      `Invalid bridged object name ${shown(name)}: 1 to 128 letters, digits, "_" or "-" (one NATS subject token)`,
      "InvalidName",
    );
  }
  return name;
}

/** Checks a subject prefix: one or more name tokens joined by ".". */
export function checkPrefix(prefix: unknown): string {
  if (typeof prefix !== "string" || prefix.length > 200 || !prefix.split(".").every((t) => NAME_TOKEN.test(t))) {
    throw argumentError(
      "range",
      `Invalid subject prefix ${shown(prefix)}: tokens of letters, digits, "_" or "-" joined by "."`,
      "InvalidName",
    );
  }
  return prefix;
}

/** The subjects of one bridged object. */
export interface Subjects {
  describe: string;
  call: string;
  topic: string;
  credit: string;
  pull: string;
  ack: string;
  /** The queue group of the request/reply subjects: several exporters of one name share the load. */
  group: string;
}

export function subjectsOf(prefix: string, name: string): Subjects {
  const base = `${prefix}.${name}`;
  return {
    describe: `${base}.describe`,
    call: `${base}.call`,
    topic: `${base}.topic`,
    credit: `${base}.credit`,
    pull: `${base}.pull`,
    ack: `${base}.ack`,
    group: base,
  };
}

/** What an exporter says of its object, so that an importer creates the same one. */
export type Description =
  | { kind: "channel"; capacity: number; clients: number }
  | {
    kind: "topic";
    maxMessage: number;
    depth: number;
    subscribers: number;
    history: number;
    policy: "block" | "overwrite";
    /** Messages an importer may be behind before the exporter waits (block policy). */
    window: number;
  }
  | { kind: "queue"; slotSize: number; slots: number };

function isInt(v: unknown, min: number, max: number): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= min && v <= max;
}

/** Parses a description from a remote exporter; `Corrupt` if any field is missing or out of range. */
export function parseDescription(bytes: Uint8Array): Description {
  let d: Record<string, unknown>;
  try {
    d = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new WshmError("Corrupt", "The remote exporter's description is not JSON");
  }
  const bad = () => new WshmError("Corrupt", `The remote exporter's description is invalid: ${shown(d)}`);
  if (typeof d !== "object" || d === null) throw bad();
  if (d.kind === "channel") {
    if (!isInt(d.capacity, 1, 1 << 28) || !isInt(d.clients, 0, 1024)) throw bad();
    return { kind: "channel", capacity: d.capacity, clients: d.clients };
  }
  if (d.kind === "topic") {
    if (
      !isInt(d.maxMessage, 1, 1 << 20) || !isInt(d.depth, 2, 65536) || !isInt(d.subscribers, 1, 64) ||
      !isInt(d.history, 0, 65536) || (d.policy !== "block" && d.policy !== "overwrite") ||
      !isInt(d.window, 1, 1 << 20)
    ) throw bad();
    return {
      kind: "topic",
      maxMessage: d.maxMessage,
      depth: d.depth,
      subscribers: d.subscribers,
      history: Math.min(d.history, d.depth),
      policy: d.policy,
      window: d.window,
    };
  }
  if (d.kind === "queue") {
    if (!isInt(d.slotSize, 1, 1 << 28) || !isInt(d.slots, 2, 1 << 20)) throw bad();
    return { kind: "queue", slotSize: d.slotSize, slots: d.slots };
  }
  throw bad();
}

/**
 * Builds one batch frame: records are appended with `add` until it returns
 * false (full), then `finish` gives the frame. One builder is reused, so a
 * busy bridge allocates one buffer, not one per record.
 */
export class FrameBuilder {
  #buffer: Uint8Array;
  #view: DataView;
  #used = FRAME_HEADER;
  #count = 0;
  /** Where the last record added starts (for dropLast). */
  #lastAt = -1;
  readonly maxBytes: number;
  readonly maxRecords: number;

  constructor(maxBytes: number, maxRecords: number) {
    this.maxBytes = maxBytes;
    this.maxRecords = maxRecords;
    this.#buffer = new Uint8Array(Math.min(maxBytes, 64 * 1024));
    this.#view = new DataView(this.#buffer.buffer);
  }

  get count(): number {
    return this.#count;
  }

  get bytes(): number {
    return this.#used;
  }

  /** True if a record of `length` bytes fits into a frame on its own. */
  fitsAlone(length: number): boolean {
    return FRAME_HEADER + RECORD_HEADER + length <= this.maxBytes;
  }

  /** Appends a record, or returns false if the frame is full (the record is not added). */
  add(type: number, payload: Uint8Array): boolean {
    const need = RECORD_HEADER + payload.length;
    if (this.#count >= this.maxRecords || this.#used + need > this.maxBytes) return false;
    if (this.#used + need > this.#buffer.length) {
      const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(this.#buffer.length * 2, this.#used + need)));
      grown.set(this.#buffer.subarray(0, this.#used));
      this.#buffer = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#lastAt = this.#used;
    this.#view.setUint32(this.#used, type >>> 0, true);
    this.#view.setUint32(this.#used + 4, payload.length, true);
    this.#buffer.set(payload, this.#used + RECORD_HEADER);
    this.#used += need;
    this.#count++;
    return true;
  }

  /** Takes back the record added last (once; a no-op when there is none since the last finish). */
  dropLast(): void {
    if (this.#lastAt < 0) return;
    this.#used = this.#lastAt;
    this.#count--;
    this.#lastAt = -1;
  }

  /** The frame so far as a fresh copy (NATS may keep it after publish returns); then empty again. */
  finish(first: number, epoch: number): Uint8Array {
    this.#view.setUint32(0, FRAME_MAGIC, true);
    this.#view.setUint32(4, this.#count, true);
    this.#view.setFloat64(8, first, true);
    this.#view.setUint32(16, epoch >>> 0, true);
    this.#view.setUint32(20, 0, true);
    const frame = this.#buffer.slice(0, this.#used);
    this.#used = FRAME_HEADER;
    this.#count = 0;
    this.#lastAt = -1;
    return frame;
  }
}

/** A decoded batch: records are views into the frame. */
export interface Frame {
  first: number;
  epoch: number;
  types: number[];
  payloads: Uint8Array[];
}

/**
 * Decodes a frame; null if it is not one whole, well-formed frame (wrong
 * magic, a count or length that runs past the end, bytes after the last
 * record, a `first` that is not a safe integer).
 */
export function decodeFrame(data: Uint8Array): Frame | null {
  if (data.length < FRAME_HEADER) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (view.getUint32(0, true) !== FRAME_MAGIC || view.getUint32(20, true) !== 0) return null;
  const count = view.getUint32(4, true);
  const first = view.getFloat64(8, true);
  if (!Number.isSafeInteger(first) || first < 0) return null;
  // Every record takes at least its header: a count beyond that is a lie.
  if (count > (data.length - FRAME_HEADER) / RECORD_HEADER) return null;
  const types: number[] = [];
  const payloads: Uint8Array[] = [];
  let at = FRAME_HEADER;
  for (let i = 0; i < count; i++) {
    if (at + RECORD_HEADER > data.length) return null;
    const type = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    at += RECORD_HEADER;
    if (length > data.length - at) return null;
    types.push(type);
    payloads.push(data.subarray(at, at + length));
    at += length;
  }
  if (at !== data.length) return null;
  return { first, epoch: view.getUint32(16, true), types, payloads };
}
