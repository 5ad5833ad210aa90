/**
 * The two halves of one channel exchange, in place: the server's view of a
 * request ({@linkcode ChannelRequest}) and the client's zero-copy call
 * ({@linkcode ChannelCall}); and the channel's options and statistics.
 *
 * @module
 */

import type { CoreConstants } from "./core.ts";

/**
 * What the request and call objects need of their channel: declared here, so
 * that this module does not import channel.ts (which imports it).
 */
interface ChannelSide {
  readonly name: string;
  readonly capacity: number;
  readonly bytes: Uint8Array;
  readonly segment: { readonly constants: CoreConstants };
  readonly lastResponseLength: number;
  readonly lastResponseStatus: number;
}
import type { WaitMode } from "./wait.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { decodeJson, decodeText, encodeText, type Message, messageLength, writeMessage } from "./codec.ts";

/** Options of `Segment.channel`; capacity and clients are ignored if the channel exists. */
export interface ChannelOptions {
  /** The longest request or response in bytes (default 4096). */
  capacity?: number;
  /**
   * 0 (default): the classic exchange, one request at a time. K > 0:
   * many-client mode, K processes can each have a request in flight.
   */
  clients?: number;
  /** Create the channel if it does not exist (default true). */
  create?: boolean;
  /** How long creating it may wait for the directory lock (default 1000 ms, then `Timeout`). */
  timeoutMs?: number;
  /** How this handle waits unless a call says otherwise (default "adaptive"). */
  wait?: WaitMode;
}

/** Options of the client calls and of `receive`. */
export interface ChannelCallOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** This call's wait mode (default: the channel's). */
  wait?: WaitMode;
}

/** Options of `receiveAsync`. */
export interface ChannelReceiveOptions extends ChannelCallOptions {
  /** Stop waiting when aborted (the call rejects with the signal's reason). */
  signal?: AbortSignal;
}

/** Options of `serve`. */
export interface ServeOptions {
  /** Stop serving when aborted; `serve()` then resolves. */
  signal?: AbortSignal;
  wait?: WaitMode;
}

/** A server handler: returns the response (bytes or a string; nothing means empty), or calls `request.respond()` itself. */
export type ChannelHandler = (request: ChannelRequest) => Message | void | Promise<Message | void>;

/** What `stats()` reports, for `wshm inspect`; stale as soon as read. */
export interface ChannelStats {
  mode: "classic" | "many-client";
  capacity: number;
  /** Client slots (many-client mode), 0 in classic mode. */
  clients: number;
  /** Client slots held by live processes (many-client mode). */
  attachedClients: number;
  /** Pid of the attached server, 0 if none (it may be dead). */
  serverPid: number;
  /** Requests answered since creation. */
  served: number;
  /** Classic mode: pid of the client inside an exchange now, 0 if none. */
  accessHolderPid: number;
}

/**
 * The error for a response status other than CHANNEL_STATUS_OK: `PeerDied`
 * if the server died with the request (a server that took over said so),
 * else `RemoteError` with the server's message.
 */
export function responseError(channel: ChannelSide, status: number, response: Uint8Array): WshmError {
  if (status === channel.segment.constants.CHANNEL_STATUS_SERVER_DIED) {
    return new WshmError("PeerDied", `The server of channel "${channel.name}" died before it answered`);
  }
  if (status === channel.segment.constants.CHANNEL_STATUS_NO_SERVER) {
    return new WshmError("NoServer", `The server of channel "${channel.name}" detached before it answered`);
  }
  return new WshmError(
    "RemoteError",
    `The server of channel "${channel.name}" failed: ${decodeText(response)}`,
  );
}

/** @internal The internals a ChannelRequest / ChannelCall need from their Channel. */
export interface ChannelPort {
  readonly channel: ChannelSide;
  /** True while the request `token` is still this server's to answer (checked before writing in place). */
  serving(token: number): boolean;
  respond(token: number, length: number, status: number): void;
  post(at: number, length: number): void;
  awaitResponse(options: ChannelCallOptions | undefined): number;
  awaitResponseAsync(options: ChannelCallOptions | undefined): Promise<number>;
  begin(options: ChannelCallOptions | undefined): number;
  end(at: number): void;
  view(at: number, length: number): Uint8Array;
}

/**
 * A request the server received, in place. Read `bytes` (or `text()`,
 * `json()`), then answer with `respond()`; or write the answer into
 * `response` and call `respondWith(length)` (zero-copy). In classic mode the
 * response area IS the request area: read the request before writing.
 * The object is reused for later requests in the same place.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.open("/rpc");
 * const channel = segment.channel("echo", { create: false });
 * const request = channel.receive({ timeoutMs: 1000 });
 * request.respond(request.text().toUpperCase());
 * ```
 */
export class ChannelRequest {
  /** Offset of the request in `channel.bytes`. */
  at = 0;
  /** Request bytes. */
  length = 0;
  /** Offset of the response area (`channel.capacity` bytes) in `channel.bytes`. */
  responseAt = 0;
  /** True once answered. */
  responded = false;
  #token = 0;
  readonly #port: ChannelPort;

  /** @internal Made by its object, never by users. */
  constructor(port: ChannelPort) {
    this.#port = port;
  }

  /** @internal */
  reset(at: number, length: number, responseAt: number, token: number): this {
    this.at = at;
    this.length = length;
    this.responseAt = responseAt;
    this.#token = token;
    this.responded = false;
    return this;
  }

  /** The request in shared memory (a view; valid until answered). */
  get bytes(): Uint8Array {
    return this.#port.view(this.at, this.length);
  }

  text(): string {
    return decodeText(this.bytes);
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.bytes);
  }

  /**
   * The whole response area, `channel.capacity` bytes, to fill before
   * `respondWith`. Throws `InvalidArgument` if the request is no longer this
   * server's to answer (its client gave up, or the exchange was recovered),
   * so that nothing is written into a buffer that has changed hands.
   */
  get response(): Uint8Array {
    if (!this.#port.serving(this.#token)) {
      throw new WshmError(
        "InvalidArgument",
        `Cannot answer on channel "${this.#port.channel.name}": the request is no longer being served`,
      );
    }
    return this.#port.view(this.responseAt, this.#port.channel.capacity);
  }

  /**
   * Answers with a copy of `message` (bytes or a string); throws `TooLarge`
   * past capacity. The bytes are written only after the core confirmed that
   * the request is still this server's to answer.
   */
  respond(message: Message = ""): void {
    const length = messageLength(message);
    this.#checkLength(length);
    if (this.#port.serving(this.#token)) writeMessage(this.#port.channel.bytes, this.responseAt, message);
    this.respondWith(length);
  }

  /** Answers with the first `length` bytes already written into `response`. */
  respondWith(length: number): void {
    this.#checkLength(length);
    this.#port.respond(this.#token, length, this.#port.channel.segment.constants.CHANNEL_STATUS_OK);
    this.responded = true;
  }

  /** Answers with a failure: the client's call throws `RemoteError` with this message. */
  fail(message: string): void {
    if (typeof message !== "string") {
      throw argumentError("type", `The message of fail() must be a string, not ${typeof message}`);
    }
    if (this.responded) throw argumentError("range", "This request has been answered already");
    const capacity = this.#port.channel.capacity;
    let bytes = encodeText(message);
    if (bytes.length > capacity) bytes = bytes.subarray(0, capacity);
    if (this.#port.serving(this.#token)) this.#port.channel.bytes.set(bytes, this.responseAt);
    this.#port.respond(this.#token, bytes.length, this.#port.channel.segment.constants.CHANNEL_STATUS_FAILED);
    this.responded = true;
  }

  #checkLength(length: number): void {
    if (this.responded) throw argumentError("range", "This request has been answered already");
    checkInteger(length, "length", 0, 0x7FFFFFFF, "an integer >= 0");
    if (length > this.#port.channel.capacity) {
      throw new WshmError(
        "TooLarge",
        `Cannot respond with ${length} bytes on channel "${this.#port.channel.name}": it carries ${this.#port.channel.capacity}`,
      );
    }
  }
}

/**
 * A client's zero-copy exchange (one per Channel handle, reused): `begin()`
 * reserves the request area, you write into `request`, `send(length)`
 * posts it and waits, the response is read in place, and `end()` (or
 * disposal) finishes. The response stays valid until `end()`.
 *
 * @example
 * ```ts
 * import { Segment, writeText } from "./mod.ts";
 * using segment = Segment.create("/call-example", { size: 1 << 20 });
 * const channel = segment.channel("rpc", { capacity: 256 });
 * // ... a server process answers on "rpc" ...
 * {
 *   using call = channel.begin({ timeoutMs: 1000 });
 *   const n = writeText(call.request, "ping");
 *   const length = call.send(n, { timeoutMs: 1000 });
 *   console.log(call.responseText(), length);
 * }
 * segment.unlink();
 * ```
 */
export class ChannelCall implements Disposable {
  /** Offset of the request area in `channel.bytes`, while a call is open (else -1). */
  requestAt = -1;
  /** Where the response is, after `send`. */
  responseAt = 0;
  responseLength = 0;
  readonly #port: ChannelPort;
  readonly #views = new Map<number, Uint8Array>();

  /** @internal Made by its object, never by users. */
  constructor(port: ChannelPort) {
    this.#port = port;
  }

  /** @internal */
  open(options: ChannelCallOptions | undefined): this {
    if (this.requestAt >= 0) {
      throw argumentError("range", "This channel handle has a call open already; end() it first");
    }
    this.requestAt = this.#port.begin(options);
    return this;
  }

  /** The request area: `channel.capacity` bytes to fill (the same view object each time for a place). */
  get request(): Uint8Array {
    if (this.requestAt < 0) throw argumentError("range", "No call is open: begin() first");
    let view = this.#views.get(this.requestAt);
    if (view === undefined) {
      view = this.#port.view(this.requestAt, this.#port.channel.capacity);
      this.#views.set(this.requestAt, view);
    }
    return view;
  }

  /** Sends the first `length` bytes of `request`, waits for the response; returns its length. */
  send(length: number, options?: ChannelCallOptions): number {
    checkCallOptions(options);
    this.#post(length);
    this.responseAt = this.#port.awaitResponse(options);
    return this.#received();
  }

  /** Like `send`, without blocking the event loop. */
  async sendAsync(length: number, options?: ChannelCallOptions): Promise<number> {
    checkCallOptions(options);
    this.#post(length);
    this.responseAt = await this.#port.awaitResponseAsync(options);
    return this.#received();
  }

  #post(length: number): void {
    if (this.requestAt < 0) throw argumentError("range", "No call is open: begin() first");
    const capacity = this.#port.channel.capacity;
    checkInteger(length, "length", 0, 0x7FFFFFFF, "an integer >= 0");
    if (length > capacity) {
      throw new WshmError(
        "TooLarge",
        `Cannot send ${length} bytes on channel "${this.#port.channel.name}": it carries ${capacity}`,
      );
    }
    this.#port.post(this.requestAt, length);
  }

  #received(): number {
    const channel = this.#port.channel;
    this.responseLength = channel.lastResponseLength;
    if (channel.lastResponseStatus !== channel.segment.constants.CHANNEL_STATUS_OK) {
      throw responseError(channel, channel.lastResponseStatus, this.response);
    }
    return this.responseLength;
  }

  /** The response in place (a view, valid until `end()`). */
  get response(): Uint8Array {
    return this.#port.view(this.responseAt, this.responseLength);
  }

  responseText(): string {
    return decodeText(this.response);
  }

  responseJson<T = unknown>(): T {
    return decodeJson<T>(this.response);
  }

  /** Finishes the call (after a response, or to give up before sending). Idempotent. */
  end(): void {
    if (this.requestAt < 0) return;
    const at = this.requestAt;
    this.requestAt = -1;
    this.#port.end(at);
  }

  [Symbol.dispose](): void {
    this.end();
  }
}
