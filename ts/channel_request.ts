/**
 * The server's half of one channel exchange: a request received, read in
 * place and answered by copy or in place.
 *
 * @module
 */

import type { ChannelPort } from "./channel_types.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkInteger } from "./names.ts";
import { decodeJson, decodeText, encodeText, type Message, messageLength, writeMessage } from "./codec.ts";

/** A server handler: returns the response (bytes or a string; nothing means empty), or calls `request.respond()` itself. */
export type ChannelHandler = (request: ChannelRequest) => Message | void | Promise<Message | void>;

/**
 * A request the server received, in place. Read `bytes` (or `text()`,
 * `json()`), then answer with `respond()`; or write the answer into
 * `response` and call `respondWith(length)` (zero-copy). In classic mode the
 * response area IS the request area: read the request before writing.
 * The object is reused for later requests in the same place.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * using segment = Segment.create("/rpc", { size: 1 << 20 });
 * const channel = segment.channel("echo");
 * // A client, usually another process; here an async request of this one.
 * const reply = channel.requestAsync("hi", { timeoutMs: 1000 });
 * const request = await channel.receiveAsync({ timeoutMs: 1000 }); // receive() blocks the thread
 * request.respond(request.text().toUpperCase());
 * console.log(new TextDecoder().decode(await reply)); // HI
 * segment.unlink();
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
    // Answered (or dropped, if no longer being served) whatever respond says:
    // a handle is never left waiting for an answer it cannot give.
    this.responded = true;
    this.#port.respond(this.#token, length, this.#port.channel.segment.constants.CHANNEL_STATUS_OK);
  }

  /**
   * @internal The token to answer with `length` bytes in place, for the
   * fused answer-and-receive (ChannelServer.respondAndReceive): checks the
   * length, that the request is not answered yet and that it came through
   * `port` (this channel handle); -1 for a request of another handle. Changes nothing.
   */
  tokenFor(length: number, port: ChannelPort): number {
    if (port !== this.#port) return -1;
    this.#checkLength(length);
    return this.#token;
  }

  /** Answers with a failure: the client's call throws `RemoteError` with this message. */
  fail(message: string): void {
    this.failWith(this.#port.channel.segment.constants.CHANNEL_STATUS_FAILED, message);
  }

  /**
   * @internal Answers with a failure of another status, for a relaying server
   * (the bridge): CHANNEL_STATUS_TIMED_OUT, _UNAVAILABLE, _NO_SERVER or
   * _SERVER_DIED, which the client's call throws as `Timeout`, `Unavailable`,
   * `NoServer` or `PeerDied`.
   */
  failWith(status: number, message: string): void {
    if (typeof message !== "string") {
      throw argumentError("type", `The message of fail() must be a string, not ${typeof message}`);
    }
    if (this.responded) throw argumentError("range", "This request has been answered already");
    const capacity = this.#port.channel.capacity;
    let bytes = encodeText(message);
    if (bytes.length > capacity) bytes = bytes.subarray(0, capacity);
    if (this.#port.serving(this.#token)) this.#port.channel.bytes.set(bytes, this.responseAt);
    this.responded = true;
    this.#port.respond(this.#token, bytes.length, status);
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
