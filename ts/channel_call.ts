/**
 * The client's half of one channel exchange: the zero-copy call, its request
 * area filled in place and its response read in place.
 *
 * @module
 */

import { type ChannelCallOptions, type ChannelPort, responseError } from "./channel_types.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, checkInteger } from "./names.ts";
import { decodeJson, decodeText } from "./codec.ts";

/**
 * A client's zero-copy exchange (one per Channel handle, reused): `begin()`
 * reserves the request area, you write into `request`, `send(length)`
 * posts it and waits, the response is read in place, and `end()` (or
 * disposal) finishes. The response stays valid until `end()`.
 *
 * @example
 * ```ts
 * import { Segment, writeText } from "wshm";
 * using segment = Segment.create("/call-example", { size: 1 << 20 });
 * const channel = segment.channel("rpc", { capacity: 256 });
 * // The server, usually another process; here an async one in this process.
 * const stop = new AbortController();
 * const serving = channel.serve((request) => request.text().toUpperCase(), { signal: stop.signal });
 * {
 *   using call = channel.begin({ timeoutMs: 1000 });
 *   const n = writeText(call.request, "ping");
 *   const length = await call.sendAsync(n, { timeoutMs: 1000 }); // call.send(n) blocks, as for another process
 *   console.log(call.responseText(), length); // PONG 4
 * }
 * stop.abort();
 * await serving;
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
    this.#checkPost(length);
    this.responseAt = this.#port.send(this.requestAt, length, options);
    return this.#received();
  }

  /**
   * Like `send`, without blocking the event loop. A response that comes
   * within the wait mode's short poll (see `WaitMode`) resolves the promise
   * without any further await: an async exchange then allocates little more
   * than that promise.
   */
  sendAsync(length: number, options?: ChannelCallOptions): Promise<number> {
    let response: number | Promise<number>;
    try {
      checkCallOptions(options);
      this.#post(length);
      response = this.#port.awaitResponseAsync(options);
      if (typeof response === "number") {
        this.responseAt = response;
        return Promise.resolve(this.#received());
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#receivedAsync(response);
  }

  #receivedAsync(response: Promise<number>): Promise<number> {
    return response.then(this.#onResponse);
  }

  /** Kept, not made per call: the async path adds only the promise `then` makes. */
  readonly #onResponse = (at: number): number => {
    this.responseAt = at;
    return this.#received();
  };

  #post(length: number): void {
    this.#checkPost(length);
    this.#port.post(this.requestAt, length);
  }

  #checkPost(length: number): void {
    if (this.requestAt < 0) throw argumentError("range", "No call is open: begin() first");
    const capacity = this.#port.channel.capacity;
    checkInteger(length, "length", 0, 0x7FFFFFFF, "an integer >= 0");
    if (length > capacity) {
      throw new WshmError(
        "TooLarge",
        `Cannot send ${length} bytes on channel "${this.#port.channel.name}": it carries ${capacity}`,
      );
    }
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
