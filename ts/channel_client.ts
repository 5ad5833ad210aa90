/**
 * The client side of a channel: its client slot (many-client mode), the
 * copying requests, sync and async, the zero-copy call, and the port through
 * which a {@linkcode ChannelCall} and a {@linkcode ChannelRequest} reach the
 * core. Not part of the public API: {@linkcode Channel} calls it.
 *
 * @module
 */

import type { Endpoint } from "./endpoint.ts";
import { argumentError, WshmError } from "./errors.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { checkCallOptions } from "./names.ts";
import { afterPollMode, afterPollTimeoutMs, asyncPollMs, timeoutOption } from "./wait.ts";
import {
  type ChannelCallOptions,
  type ChannelPort,
  type ChannelSide,
  responseError,
} from "./channel_types.ts";
import { ChannelCall } from "./channel_call.ts";

/** @internal What the client needs of its channel besides the endpoint. */
export interface ChannelOwner extends ChannelSide {
  /** Client slots; 0 in classic mode. */
  readonly clients: number;
}

/** @internal The client operations of one channel handle. */
export class ChannelClient {
  /** Length of the last response this handle received (for ChannelCall). */
  responseLength = 0;
  /** Status of the last response this handle received (for ChannelCall). */
  responseStatus = 0;
  /** What the exchange objects reach of the channel. */
  readonly port: ChannelPort;
  /** The handle's one zero-copy call, reused. */
  readonly call: ChannelCall;
  readonly #end: Endpoint;
  readonly #channel: ChannelOwner;
  #slot = -1;
  #asyncBusy = false;
  #turn: Promise<void> = Promise.resolve();

  constructor(end: Endpoint, channel: ChannelOwner) {
    this.#end = end;
    this.#channel = channel;
    this.port = this.#makePort();
    this.call = new ChannelCall(this.port);
  }

  #makePort(): ChannelPort {
    const end: Endpoint = this.#end;
    const core = end.core;
    return {
      channel: this.#channel,
      view: (at, length) => end.bytes.subarray(at, at + length),
      begin: (options) => {
        this.#attach();
        const at = core.channelBegin(
          end.handle,
          this.#slot,
          timeoutOption(options?.timeoutMs),
          end.spins(options),
        );
        if (at < 0) end.fail(at, "send a request on");
        return at;
      },
      post: (at, length) => {
        const r = core.channelPost(end.handle, this.#slot, at, length);
        if (r < 0) end.fail(r, "send a request on");
      },
      send: (at, length, options) => {
        const r = core.channelSend(
          end.handle,
          this.#slot,
          at,
          length,
          timeoutOption(options?.timeoutMs),
          end.spins(options),
        );
        if (r < 0) {
          // The post's own failures say "send"; what came while waiting, "receive".
          const waiting = r === -end.k.TIMED_OUT || r === -end.k.PEER_DIED || r === -end.k.NO_SERVER;
          end.fail(r, waiting ? "receive a response on" : "send a request on");
        }
        this.#response();
        return r;
      },
      awaitResponse: (options) => {
        const r = core.channelAwait(
          end.handle,
          this.#slot,
          timeoutOption(options?.timeoutMs),
          end.spins(options),
        );
        if (r < 0) end.fail(r, "receive a response on");
        this.#response();
        return r;
      },
      awaitResponseAsync: (options) => {
        const timeoutMs = timeoutOption(options?.timeoutMs);
        const mode = end.waitMode(options);
        const pollMs = asyncPollMs(mode, timeoutMs);
        if (pollMs > 0) {
          const r = core.channelAwait(end.handle, this.#slot, pollMs, end.k.WAIT_SPIN);
          if (r >= 0) {
            this.#response();
            return r;
          }
          if (r !== -end.k.TIMED_OUT || pollMs === timeoutMs) end.fail(r, "receive a response on");
        }
        // No async function, closure or options object of its own per wait: each
        // was a promise or an object per parked message (bench/allocation.ts).
        return end.waitAsyncIn(
          this.#awaitStep,
          this.#awaitCancel,
          afterPollMode(mode),
          afterPollTimeoutMs(timeoutMs, pollMs),
        ).then(this.#awaited);
      },
      end: (at) => {
        core.channelEnd(end.handle, this.#slot, at);
      },
      serving: (token) => core.channelResponseBuffer(end.handle, token) >= 0,
      respond: (token, length, status) => {
        const r = core.channelRespond(end.handle, token, length, status);
        // -INVALID_ARGUMENT: the request is no longer this server's to answer
        // (its client gave up, or a server that attached after this one was
        // thought dead recovered it): the answer is dropped, as in
        // many-client mode, and the server goes on with the next request.
        if (r < 0 && r !== -end.segment.constants.INVALID_ARGUMENT) end.fail(r, "respond on");
      },
    };
  }

  /** The await step of the zero-copy call's async wait (kept: one function for every wait). */
  readonly #awaitStep = (flags: number): number => {
    const at = this.#end.core.channelAwaitStep(this.#end.handle, this.#slot, 0, flags);
    if (at >= 0) this.#response();
    return at;
  };
  readonly #awaitCancel = (): void => this.#end.core.channelAwaitCancel(this.#end.handle, this.#slot);
  readonly #awaited = (at: number): number => {
    if (at < 0) this.#end.fail(at, "receive a response on");
    return at;
  };

  #response(): void {
    this.responseLength = this.#end.scratch[1];
    this.responseStatus = this.#end.scratch[2];
  }

  /** Waits for the response without blocking the event loop; `take` runs as soon as it is there. */
  async #await(options: ChannelCallOptions | undefined, take: (at: number) => unknown): Promise<unknown> {
    const end: Endpoint = this.#end;
    const core = end.core;
    let taken: unknown;
    const r = await end.waitAsync(
      (flags) => {
        const at = core.channelAwaitStep(end.handle, this.#slot, 0, flags);
        if (at >= 0) taken = take(at);
        return at;
      },
      () => core.channelAwaitCancel(end.handle, this.#slot),
      options,
    );
    if (r < 0) end.fail(r, "receive a response on");
    return taken;
  }

  #attach(): void {
    if (this.#slot >= 0) return;
    const end: Endpoint = this.#end;
    end.segment.assertOpen();
    const slot = end.core.channelClientAttach(end.handle);
    if (slot === -end.k.FULL) {
      throw new WshmError(
        "NoSpace",
        `Cannot attach to channel "${end.name}": its ${this.#channel.clients} client slots are held by live processes`,
      );
    }
    if (slot < 0) end.fail(slot, "attach to");
    this.#slot = slot;
  }

  #checkIdle(): void {
    if (this.#asyncBusy) {
      throw argumentError(
        "range",
        `A requestAsync() on channel "${this.#end.name}" is in progress in this handle`,
      );
    }
  }

  #checkLength(length: number, what: string): void {
    const capacity = this.#channel.capacity;
    if (length > capacity) {
      throw new WshmError(
        "TooLarge",
        `Cannot ${what} ${length} bytes on channel "${this.#end.name}": it carries ${capacity}`,
      );
    }
  }

  request(message: Message, options: ChannelCallOptions | undefined): Uint8Array {
    checkCallOptions(options);
    this.#checkIdle();
    const length = messageLength(message);
    this.#checkLength(length, "send");
    const bytes = this.#end.bytes;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const started = timeoutMs < 0 ? 0 : performance.now();
    const call = this.call.open(options);
    try {
      writeMessage(bytes, call.requestAt, message);
      const remaining = timeoutMs < 0 ? undefined : Math.max(0, timeoutMs - (performance.now() - started));
      const n = call.send(length, { timeoutMs: remaining, wait: options?.wait });
      return bytes.slice(call.responseAt, call.responseAt + n);
    } finally {
      call.end();
    }
  }

  async requestAsync(message: Message, options: ChannelCallOptions | undefined): Promise<Uint8Array> {
    checkCallOptions(options);
    const length = messageLength(message);
    this.#checkLength(length, "send");
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    this.#asyncBusy = true;
    const end: Endpoint = this.#end;
    const core = end.core;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const left = () => (deadline === Infinity ? -1 : Math.max(0, deadline - performance.now()));
    const mode = { wait: end.waitMode(options) };
    let acquired = false;
    let at = 0;
    try {
      this.#attach();
      const slot = this.#slot;
      const r = await end.waitAsync(
        (f) => core.channelAcquireStep(end.handle, slot, 0, f),
        () => core.channelAcquireCancel(end.handle, slot),
        mode,
        undefined,
        left(),
      );
      if (r < 0) end.fail(r, "send a request on");
      acquired = true;
      at = await end.waitAsync(
        (f) => core.channelPrepareStep(end.handle, slot, 0, f),
        () => core.channelPrepareCancel(end.handle, slot),
        mode,
        undefined,
        left(),
      );
      if (at < 0) end.fail(at, "send a request on");
      writeMessage(end.bytes, at, message);
      this.port.post(at, length);
      at = 0;
      const reply = await this.#await(
        { timeoutMs: left() < 0 ? undefined : left(), wait: mode.wait },
        (response) => {
          this.#response();
          return end.bytes.slice(response, response + this.responseLength);
        },
      ) as Uint8Array;
      if (this.responseStatus !== end.k.CHANNEL_STATUS_OK) {
        throw responseError(this.#channel, this.responseStatus, reply);
      }
      return reply;
    } finally {
      if (acquired) core.channelEnd(end.handle, this.#slot, at);
      this.#asyncBusy = false;
      done();
    }
  }

  begin(options: ChannelCallOptions | undefined): ChannelCall {
    checkCallOptions(options);
    this.#checkIdle();
    return this.call.open(options);
  }

  /** Gives up the client slot, if held. */
  detach(): void {
    if (this.#slot >= 0) this.#end.core.channelClientDetach(this.#end.handle, this.#slot);
    this.#slot = -1;
  }
}
