// @ts-check
// Both ends of the request/response exchange that `wshm serve` answers and
// `wshm client` calls: the library's channel (ts/channel.ts) named CHANNEL in
// the served segment. Plain JavaScript, so that the Deno CLI and the demo's
// Node and Bun clients share one implementation; the library is passed in
// (`lib`: ts/mod.ts, or dist/ts/mod.js under Node), so this file imports
// nothing by path.

import { percentiles } from "./stats.mjs";

/** The channel's name inside a segment made by `wshm serve`. */
export const CHANNEL = "wshm";

/** @typedef {"adaptive" | "spin" | "park"} WaitMode */

/**
 * @typedef {object} ServerEnd
 * @property {any} segment the Segment
 * @property {any} channel the Channel
 * @property {(handle: (request: Uint8Array) => Uint8Array, timeoutMs: number) => boolean} serveOne
 *   answers the next request with `handle` (a failing handler answers with its error message, which the
 *   client gets as RemoteError); false if none came within timeoutMs
 * @property {() => number} served requests answered through this end
 * @property {() => void} close gives up the server role and unmaps (the caller unlinks)
 */

/**
 * @typedef {object} ClientEnd
 * @property {any} segment
 * @property {(message: Uint8Array, timeoutMs: number) => Uint8Array} request sends and waits for the response (a copy)
 * @property {() => void} close
 */

/**
 * Creates segment `name` with the channel and becomes its server.
 * @param {any} lib the library's exports
 * @param {string} name
 * @param {{ size: number, mode: number, group?: number | string, messageSize: number, clients?: number, wait?: WaitMode }} options
 * @returns {ServerEnd}
 */
export function createServer(lib, name, options) {
  const segment = lib.Segment.create(name, { size: options.size, mode: options.mode, group: options.group });
  try {
    const channel = segment.channel(CHANNEL, {
      capacity: options.messageSize,
      clients: options.clients ?? 0,
      wait: options.wait ?? "adaptive",
    });
    channel.attachServer();
    let served = 0;
    return {
      segment,
      channel,
      serveOne(handle, timeoutMs) {
        let request;
        try {
          request = channel.receive({ timeoutMs });
        } catch (error) {
          if (/** @type {any} */ (error)?.code === "Timeout") return false;
          throw error;
        }
        try {
          // In classic mode the response area is the request's: handlers may work in place.
          request.respond(handle(request.bytes));
        } catch (error) {
          if (!request.responded) request.fail(error instanceof Error ? error.message : String(error));
        }
        served++;
        return true;
      },
      served: () => served,
      close() {
        channel.detach();
        segment.close();
      },
    };
  } catch (error) {
    segment.close();
    segment.unlink();
    throw error;
  }
}

/**
 * Opens the channel of segment `name` as a client.
 * @param {any} lib
 * @param {string} name
 * @param {{ timeoutMs?: number, wait?: WaitMode, trustOwner?: number | string }} [options]
 *   trustOwner: also open a segment of this owner (see Segment.open)
 * @returns {ClientEnd}
 */
export function connect(lib, name, options = {}) {
  const segment = lib.Segment.open(name, {
    timeoutMs: options.timeoutMs ?? 2000,
    trustOwner: options.trustOwner,
  });
  try {
    const channel = segment.channel(CHANNEL, { create: false, wait: options.wait ?? "adaptive" });
    return {
      segment,
      request: (message, timeoutMs) => channel.request(message, { timeoutMs }),
      close() {
        channel.detach();
        segment.close();
      },
    };
  } catch (error) {
    segment.close();
    throw error;
  }
}

/**
 * @typedef {object} LoadResult
 * @property {string} runtime
 * @property {number} pid
 * @property {number} count requests answered
 * @property {number} size request size in bytes
 * @property {number} elapsedMs
 * @property {number} startedEpochMs wall-clock start of the measured requests (to add up concurrent clients)
 * @property {number} endedEpochMs
 * @property {number} perSecond
 * @property {number} mismatches responses that were not what the handler should return
 * @property {import("./stats.mjs").Percentiles} latencyUs round trip, microseconds
 */

/**
 * Sends `count` requests of `size` bytes and measures each round trip.
 * `expect` (optional) computes the response the server should give.
 * @param {ClientEnd} client
 * @param {{ count: number, size: number, timeoutMs: number, expect?: (request: Uint8Array) => Uint8Array, warmup?: number }} options
 * @param {(r: Omit<LoadResult, "runtime" | "pid">) => void} [onProgress] called about every 250 ms
 * @returns {Omit<LoadResult, "runtime" | "pid">}
 */
export function runLoad(client, options, onProgress) {
  const message = new Uint8Array(options.size);
  for (let i = 0; i < message.length; i++) message[i] = 0x61 + (i % 26);
  const expected = options.expect ? options.expect(message.slice()) : undefined;
  for (let i = 0; i < (options.warmup ?? Math.min(100, options.count)); i++) {
    client.request(message, options.timeoutMs);
  }
  const latencies = new Float64Array(options.count);
  let mismatches = 0;
  const started = performance.now();
  const startedEpochMs = Date.now();
  let reported = started;
  for (let i = 0; i < options.count; i++) {
    const t0 = performance.now();
    const response = client.request(message, options.timeoutMs);
    const t1 = performance.now();
    latencies[i] = (t1 - t0) * 1000;
    if (expected !== undefined && !sameBytes(response, expected)) mismatches++;
    if (onProgress !== undefined && t1 - reported > 250) {
      reported = t1;
      const elapsedMs = t1 - started;
      onProgress({
        count: i + 1,
        size: options.size,
        elapsedMs,
        startedEpochMs,
        endedEpochMs: Date.now(),
        perSecond: ((i + 1) * 1000) / elapsedMs,
        mismatches,
        latencyUs: percentiles(latencies.subarray(0, i + 1)),
      });
    }
  }
  const elapsedMs = performance.now() - started;
  return {
    count: options.count,
    size: options.size,
    elapsedMs,
    startedEpochMs,
    endedEpochMs: Date.now(),
    perSecond: (options.count * 1000) / elapsedMs,
    mismatches,
    latencyUs: percentiles(latencies),
  };
}

/**
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 */
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
