// The hot loops of the two-process benchmarks, in one place so that the
// scripts that time them (channel.ts, zero_copy.ts, ring.ts) and the peers
// that run them under a heap probe (allocation.ts) run the same code. Nothing
// in a loop allocates on the benchmark's side (sample arrays are made before,
// option objects are hoisted), so what a heap probe sees is the library.
//
// Message stamps: every message carries its sequence number, so that each
// side checks it got the right one. A channel request of n bytes has the
// number in its first and last 32-bit word (in every word with `fill`); the
// server answers in place with number + 1 in the first and last word. A ring
// message has it in its first word (64 B: in all 16 words; 64 KiB: also in
// the last word).

import type { Channel, Ring, Segment } from "../ts/mod.ts";
import { internals } from "../ts/advanced.ts";

/** How a channel client or a ring side waits when it has to (the library's WaitMode). */
export type Mode = "spin" | "park" | "adaptive";

/** The words of the segment's memory: message stamps are written through this view. */
export function wordsOf(segment: Segment): Int32Array {
  return new Int32Array(segment.memory.buffer);
}

function stamp(words: Int32Array, first: number, length: number, value: number, fill: boolean): void {
  if (fill) {
    for (let w = first, end = first + (length >> 2); w < end; w++) words[w] = value;
  } else {
    words[first] = value;
    words[first + (length >> 2) - 1] = value;
  }
}

function checkAnswer(words: Int32Array, first: number, length: number, n: number, expected: number): void {
  if (n !== length || words[first] !== expected || words[first + (length >> 2) - 1] !== expected) {
    throw new Error(
      `wrong response: ${n} bytes, stamps ${words[first]}/${
        words[first + (length >> 2) - 1]
      }, expected ${expected}`,
    );
  }
}

/**
 * A channel client: `trips` zero-copy exchanges of `length` bytes
 * (begin, stamp the request in place, send, check the response in place,
 * end), numbered from `seq`. With `samples`, records the time of each trip
 * in ns (or, with `block` > 1, the mean of each `block` trips: one clock read
 * per block). Returns the next sequence number.
 */
export function exchange(
  channel: Channel,
  words: Int32Array,
  length: number,
  fill: boolean,
  trips: number,
  seq: number,
  samples: Float64Array | null,
  block = 1,
): number {
  const base = channel.segment.constants.SEGMENT_BASE;
  const options = { timeoutMs: 10_000 };
  let previous = performance.now();
  for (let i = 0; i < trips; i++, seq++) {
    const call = channel.begin(options);
    stamp(words, (base + call.requestAt) >> 2, length, seq, fill);
    const n = call.send(length, options);
    checkAnswer(words, (base + call.responseAt) >> 2, length, n, seq + 1);
    call.end();
    if (samples !== null && (i + 1) % block === 0) {
      const now = performance.now();
      samples[(i + 1) / block - 1] = ((now - previous) * 1e6) / block;
      previous = now;
    }
  }
  return seq;
}

/**
 * Diagnostic: `exchange` (64 B, filled, block-timed) through the core's own
 * exports, without the TypeScript wrapper (ChannelCall, its checks and
 * closures): channelBegin, channelSend, channelEnd, as the wrapper calls them.
 * What the wrapper costs is the gap to `exchange` in the same run.
 */
export function exchangeThroughCore(
  segment: Segment,
  channel: Channel,
  words: Int32Array,
  trips: number,
  seq: number,
  samples: Float64Array | null,
  block: number,
): number {
  const { core, constants: k } = internals(segment);
  const base = k.SEGMENT_BASE;
  const handle = channel.handle;
  const spin = k.WAIT_SPIN;
  let previous = performance.now();
  for (let i = 0; i < trips; i++, seq++) {
    const request = core.channelBegin(handle, 0, 10_000, spin);
    if (request < 0) throw new Error(`channelBegin: status ${-request}`);
    stamp(words, (base + request) >> 2, 64, seq, true);
    const response = core.channelSend(handle, 0, request, 64, 10_000, spin);
    if (response < 0) throw new Error(`channelSend: status ${-response}`);
    checkAnswer(words, (base + response) >> 2, 64, 64, seq + 1);
    core.channelEnd(handle, 0, 0);
    if (samples !== null && (i + 1) % block === 0) {
      const now = performance.now();
      samples[(i + 1) / block - 1] = ((now - previous) * 1e6) / block;
      previous = now;
    }
  }
  return seq;
}

/**
 * Diagnostic: the classic exchange's core calls with both sides in this one
 * thread (this handle is client and server): begin, stamp, post, receive,
 * answer in place, respond, await, check, end, in turn. Nothing crosses
 * cores and nothing waits, so this is what the calls and the protocol's
 * instructions cost, against bench/c/exchange_lines.c one-thread (the same
 * accesses in C). Unfused (six calls: the fused ones would wait for each
 * other); timed per block of `block` trips. Returns per-block means in ns.
 */
export function exchangeInOneThread(
  segment: Segment,
  channel: Channel,
  words: Int32Array,
  trips: number,
  block: number,
): number[] {
  const { core, constants: k } = internals(segment);
  const base = k.SEGMENT_BASE;
  const handle = channel.handle;
  const spin = k.WAIT_SPIN;
  const scratch = new Uint32Array(segment.memory.buffer, core.channelScratch.value, 4);
  const samples: number[] = [];
  const warm = block * Math.max(1, Math.round(trips / 10 / block));
  let previous = performance.now();
  for (let i = -warm; i < trips; i++) {
    const request = core.channelBegin(handle, 0, 10_000, spin);
    if (request < 0) throw new Error(`channelBegin: status ${-request}`);
    stamp(words, (base + request) >> 2, 64, i, true);
    core.channelPost(handle, 0, request, 64);
    const received = core.channelReceive(handle, 10_000, spin);
    if (received < 0) throw new Error(`channelReceive: status ${-received}`);
    const first = (base + received) >> 2;
    words[first] += 1;
    words[first + 15] += 1;
    core.channelRespond(handle, scratch[3], 64, 0);
    const response = core.channelAwait(handle, 0, 10_000, spin);
    if (response < 0) throw new Error(`channelAwait: status ${-response}`);
    checkAnswer(words, (base + response) >> 2, 64, scratch[1], i + 1);
    core.channelEnd(handle, 0, 0);
    if ((i + 1) % block === 0) {
      const now = performance.now();
      if (i >= 0) samples.push(((now - previous) * 1e6) / block);
      previous = now;
    }
  }
  return samples;
}

/** Like `exchange`, with `await call.sendAsync()`: the client never blocks its event loop. */
export async function exchangeAsync(
  channel: Channel,
  words: Int32Array,
  length: number,
  fill: boolean,
  trips: number,
  seq: number,
  samples: Float64Array | null,
): Promise<number> {
  const base = channel.segment.constants.SEGMENT_BASE;
  const options = { timeoutMs: 10_000 };
  let previous = performance.now();
  for (let i = 0; i < trips; i++, seq++) {
    const call = channel.begin(options);
    stamp(words, (base + call.requestAt) >> 2, length, seq, fill);
    const n = await call.sendAsync(length, options);
    checkAnswer(words, (base + call.responseAt) >> 2, length, n, seq + 1);
    call.end();
    if (samples !== null) {
      const now = performance.now();
      samples[i] = (now - previous) * 1e6;
      previous = now;
    }
  }
  return seq;
}

/**
 * Like `exchange`, alternating the sizes in `lengths` trip by trip (trip i
 * sends lengths[i % lengths.length] bytes), so that every size is measured
 * under the same conditions; `samples[k]` gets the times of size k.
 */
export function exchangeSizes(
  channel: Channel,
  words: Int32Array,
  lengths: number[],
  trips: number,
  seq: number,
  samples: Float64Array[] | null,
): number {
  const base = channel.segment.constants.SEGMENT_BASE;
  const options = { timeoutMs: 10_000 };
  const sizes = lengths.length;
  let previous = performance.now();
  for (let i = 0; i < trips; i++, seq++) {
    const length = lengths[i % sizes];
    const call = channel.begin(options);
    stamp(words, (base + call.requestAt) >> 2, length, seq, false);
    const n = call.send(length, options);
    checkAnswer(words, (base + call.responseAt) >> 2, length, n, seq + 1);
    call.end();
    if (samples !== null) {
      const now = performance.now();
      samples[i % sizes][Math.floor(i / sizes)] = (now - previous) * 1e6;
      previous = now;
    }
  }
  return seq;
}

/** The little-endian 32-bit integer at `at` (without a DataView, which would be an allocation of ours). */
function int32At(bytes: Uint8Array, at: number): number {
  return bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24);
}

/**
 * The copying client API for comparison: `channel.request(payload)` copies
 * the request in and returns a copy of the response (an allocation per
 * trip). Trip i sends payloads[i % payloads.length]; `samples[k]` gets the
 * times of payload k.
 */
export function exchangeCopying(
  channel: Channel,
  payloads: Uint8Array[],
  trips: number,
  seq: number,
  samples: Float64Array[] | null,
): number {
  const options = { timeoutMs: 10_000 };
  const outs = payloads.map((p) => new Int32Array(p.buffer, p.byteOffset, p.length >> 2));
  const sizes = payloads.length;
  let previous = performance.now();
  for (let i = 0; i < trips; i++, seq++) {
    const payload = payloads[i % sizes];
    const out = outs[i % sizes];
    out[0] = out[out.length - 1] = seq;
    const reply = channel.request(payload, options);
    if (
      reply.length !== payload.length || int32At(reply, 0) !== seq + 1 ||
      int32At(reply, reply.length - 4) !== seq + 1
    ) {
      throw new Error(`wrong response to request ${seq}`);
    }
    if (samples !== null) {
      const now = performance.now();
      samples[i % sizes][Math.floor(i / sizes)] = (now - previous) * 1e6;
      previous = now;
    }
  }
  return seq;
}

/** The server's answer to one request, in place (stamps + 1): its length, or -1 for the stop request (length 0). */
export function answer(
  channel: Channel,
  words: Int32Array,
  at: number,
  length: number,
  responseAt: number,
): number {
  if (length === 0) return -1;
  const base = channel.segment.constants.SEGMENT_BASE;
  const first = (base + at) >> 2;
  const value = words[first];
  if (words[first + (length >> 2) - 1] !== value) throw new Error(`torn request ${value}`);
  const out = (base + responseAt) >> 2;
  words[out] = value + 1;
  words[out + (length >> 2) - 1] = value + 1;
  return length;
}

/** Sends the stop request (length 0) that ends a channel_peer server. */
export function stopServer(channel: Channel): void {
  const call = channel.begin({ timeoutMs: 10_000 });
  call.send(0, { timeoutMs: 10_000 });
  call.end();
}

// ── ring ──────────────────────────────────────────────────────────────────

/**
 * How the ring is driven:
 *   batch   64 B messages, up to 256 claimed at once (tryClaimMany), one
 *           commit per batch; the consumer takes up to 512 (readMany) and
 *           releases them at once
 *   single  64 B messages, one claim + commit and one read + release each
 *   large   64 KiB messages: claimAt, copy 64 KiB in (the producer makes its
 *           message), commit; the consumer reads in place and releases
 */
export type RingKind = "batch" | "single" | "large";

/** Payload bytes per message of each kind. */
export const RING_MESSAGE: Record<RingKind, number> = { batch: 64, single: 64, large: 65536 };

/** The producer: `count` messages numbered from `seq`; returns the next number. */
export function produce(
  ring: Ring,
  words: Int32Array,
  kind: RingKind,
  count: number,
  seq: number,
  template: Uint8Array,
): number {
  const base = ring.segment.constants.SEGMENT_BASE;
  const size = RING_MESSAGE[kind];
  const options = { timeoutMs: 10_000 };
  const end = seq + count;
  if (kind === "batch") {
    while (seq < end) {
      let n = ring.tryClaimMany(Math.min(256, end - seq), size);
      let at = ring.claimedAt;
      const stride = ring.claimedStride;
      if (n === 0) {
        at = ring.claimAt(size, options); // full: wait for room for one
        n = 1;
      }
      for (let i = 0; i < n; i++, seq++) stamp(words, (base + at + i * stride) >> 2, size, seq, true);
      ring.commit();
    }
  } else if (kind === "single") {
    for (; seq < end; seq++) {
      let at = ring.tryClaimAt(size);
      if (at < 0) at = ring.claimAt(size, options);
      stamp(words, (base + at) >> 2, size, seq, true);
      ring.commit();
    }
  } else {
    const bytes = ring.bytes;
    for (; seq < end; seq++) {
      const at = ring.claimAt(size, options);
      bytes.set(template, at);
      stamp(words, (base + at) >> 2, size, seq, false);
      ring.commit();
    }
  }
  return seq;
}

/**
 * The batched producer's message work alone, in this process: `count` 64 B
 * messages stamped (the number in all 16 words) into 72-byte slots of a 1 MiB
 * private buffer, 256 at a time, as produce() stamps them into the ring,
 * with no ring, no peer and nothing crossing cores. Returns messages per
 * second: the most the ring case could reach in this runtime with this work.
 */
export function messageWorkAlone(count: number): number {
  const words = new Int32Array(new ArrayBuffer(1 << 20));
  const slots = Math.floor(words.byteLength / 72);
  const started = performance.now();
  for (let seq = 0, slot = 0; seq < count;) {
    for (let i = 0; i < 256; i++, seq++, slot = slot + 1 === slots ? 0 : slot + 1) {
      stamp(words, slot * 18 + 2, 64, seq, true);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  // Read back, so that no compiler may drop the stores: a stamp is a message number, never negative.
  if (words[2] < 0 || words[20] < 0) throw new Error("a stamp was not written");
  return count / seconds;
}

/** The consumer: `count` messages, checking that they come numbered from `seq`; returns the next number. */
export function consume(ring: Ring, words: Int32Array, kind: RingKind, count: number, seq: number): number {
  const base = ring.segment.constants.SEGMENT_BASE;
  const options = { timeoutMs: 10_000 };
  const end = seq + count;
  if (kind === "batch") {
    const batch = ring.batch;
    while (seq < end) {
      const n = ring.readMany(Math.min(512, end - seq), options);
      for (let i = 0; i < n; i++, seq++) {
        if (words[(base + batch[3 * i]) >> 2] !== seq) {
          throw new Error(`expected message ${seq}, got ${words[(base + batch[3 * i]) >> 2]}`);
        }
      }
      ring.release();
    }
  } else {
    const last = (RING_MESSAGE[kind] >> 2) - 1;
    for (; seq < end; seq++) {
      const record = ring.tryRead() ?? ring.read(options);
      const first = (base + record.at) >> 2;
      if (words[first] !== seq || words[first + last] !== seq) {
        throw new Error(`expected message ${seq}, got ${words[first]}`);
      }
      ring.release();
    }
  }
  return seq;
}

/** The copying consumer API for comparison: `ring.receive()` returns a private copy (an allocation per message). */
export function consumeCopying(ring: Ring, count: number, seq: number): number {
  const options = { timeoutMs: 10_000 };
  for (const end = seq + count; seq < end; seq++) {
    const message = ring.receive(options);
    if (message[0] !== (seq & 0xff)) throw new Error(`expected message ${seq}`);
  }
  return seq;
}
