// Both ends of the request/response exchange that `wshm serve` answers and
// `wshm client` calls: the library's channel (ts/channel.ts) named CHANNEL in
// the served segment. One implementation for the Deno CLI and the demo's Node
// and Bun clients (cli/peer.ts): Deno and Bun run this file, Node its build in
// dist/cli/, which imports the library's build in dist/ts/.

import { type Channel, Segment, type TrustOwner, type WaitMode } from "../ts/mod.ts";
import { type Percentiles, percentiles } from "./stats.ts";

/** The channel's name inside a segment made by `wshm serve`. */
export const CHANNEL = "wshm";

/** The server's end of the exchange. */
export interface ServerEnd {
  segment: Segment;
  channel: Channel;
  /**
   * Answers the next request with `handle` (a failing handler answers with its error message, which the
   * client gets as RemoteError); false if none came within timeoutMs.
   */
  serveOne(handle: (request: Uint8Array) => Uint8Array, timeoutMs: number): boolean;
  /** Requests answered through this end. */
  served(): number;
  /** Gives up the server role and unmaps (the caller unlinks). */
  close(): void;
}

/** A client's end of the exchange. */
export interface ClientEnd {
  segment: Segment;
  /** Sends and waits for the response (a copy). */
  request(message: Uint8Array, timeoutMs: number): Uint8Array;
  close(): void;
}

/** Options of {@linkcode createServer}. */
export interface ServerOptions {
  size: number;
  mode: number;
  group?: number | string;
  messageSize: number;
  clients?: number;
  wait?: WaitMode;
}

/**
 * Creates segment `name` with the channel and becomes its server.
 *
 * @example
 * ```ts
 * import { createServer } from "./exchange.ts";
 * const server = createServer("/served", { size: 1 << 20, mode: 0o600, messageSize: 4096 });
 * server.serveOne((request) => request, 100);
 * server.close();
 * server.segment.unlink();
 * ```
 */
export function createServer(name: string, options: ServerOptions): ServerEnd {
  const segment = Segment.create(name, { size: options.size, mode: options.mode, group: options.group });
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
          if ((error as { code?: unknown } | null)?.code === "Timeout") return false;
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

/** Options of {@linkcode connect}. */
export interface ConnectOptions {
  timeoutMs?: number;
  wait?: WaitMode;
  /** Also open a segment of this owner (see Segment.open). */
  trustOwner?: TrustOwner;
}

/**
 * Opens the channel of segment `name` as a client.
 *
 * @example
 * ```ts
 * import { connect } from "./exchange.ts";
 * const client = connect("/served", { timeoutMs: 2000 });
 * client.request(new TextEncoder().encode("hi"), 1000);
 * client.close();
 * ```
 */
export function connect(name: string, options: ConnectOptions = {}): ClientEnd {
  const segment = Segment.open(name, {
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

/** What a load run measured: one JSON document of `wshm client --json` or line of cli/peer.ts. */
export interface LoadResult {
  runtime: string;
  pid: number;
  /** Requests answered. */
  count: number;
  /** Request size in bytes. */
  size: number;
  elapsedMs: number;
  /** Wall-clock start of the measured requests (to add up concurrent clients). */
  startedEpochMs: number;
  endedEpochMs: number;
  perSecond: number;
  /** Responses that were not what the handler should return. */
  mismatches: number;
  /** Round trip, microseconds. */
  latencyUs: Percentiles;
}

/** A load run's measurements, before the runner adds its runtime and pid. */
export type LoadMeasurement = Omit<LoadResult, "runtime" | "pid">;

/** Options of {@linkcode runLoad}. */
export interface LoadOptions {
  count: number;
  size: number;
  timeoutMs: number;
  /** Computes the response the server should give. */
  expect?: (request: Uint8Array) => Uint8Array;
  warmup?: number;
}

/**
 * Sends `count` requests of `size` bytes and measures each round trip;
 * `onProgress` is called about every 250 ms.
 *
 * @example
 * ```ts
 * import { connect, runLoad } from "./exchange.ts";
 * const client = connect("/served");
 * console.log(runLoad(client, { count: 1000, size: 64, timeoutMs: 1000 }).perSecond);
 * client.close();
 * ```
 */
export function runLoad(
  client: ClientEnd,
  options: LoadOptions,
  onProgress?: (r: LoadMeasurement) => void,
): LoadMeasurement {
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
