/**
 * The server side of a channel: the server role, the requests it receives
 * (sync, try and async) and the serving loop. Not part of the public API:
 * {@linkcode Channel} calls it.
 *
 * @module
 */

import type { Endpoint } from "./endpoint.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, checkOptions, shown } from "./names.ts";
import { afterPoll, afterPollMode, afterPollTimeoutMs, asyncPollMs, timeoutOption } from "./wait.ts";
import type {
  ChannelCallOptions,
  ChannelPort,
  ChannelReceiveOptions,
  ServeOptions,
} from "./channel_types.ts";
import { type ChannelHandler, ChannelRequest } from "./channel_request.ts";

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw argumentError("type", `Invalid signal ${shown(signal)}: it must be an AbortSignal`);
  }
}

/** @internal The server operations of one channel handle. */
export class ChannelServer {
  readonly #end: Endpoint;
  readonly #port: ChannelPort;
  /** Client slots; 0 in classic mode. */
  readonly #clients: number;
  readonly #requests = new Map<number, ChannelRequest>();
  /** The same requests in an array, walked by index on every receive: a Map iterator is garbage per message in Deno. */
  readonly #requestList: ChannelRequest[] = [];
  #server = false;

  constructor(end: Endpoint, port: ChannelPort, clients: number) {
    this.#end = end;
    this.#port = port;
    this.#clients = clients;
  }

  attach(): boolean {
    const end: Endpoint = this.#end;
    end.segment.assertOpen();
    const status = end.core.channelServerAttach(end.handle);
    if (status === -end.k.EXISTS) {
      const pid = end.core.channelInfo(end.handle, end.k.CHANNEL_INFO_SERVER);
      throw new WshmError("Exists", `Cannot serve channel "${end.name}": process ${pid} serves it`);
    }
    if (status < 0) end.fail(status, "serve");
    this.#server = true;
    return status === end.k.OWNER_DIED;
  }

  #request(): ChannelRequest {
    const s = this.#end.scratch;
    let request = this.#requests.get(s[0]);
    if (request === undefined) {
      request = new ChannelRequest(this.#port);
      this.#requests.set(s[0], request);
      this.#requestList.push(request);
    }
    return request.reset(s[0], s[1], s[2], s[3]);
  }

  /**
   * Classic mode serves one exchange at a time: a second receive before
   * answering would wait forever. `answering`: the request the same call answers first.
   */
  #checkAnswered(answering?: ChannelRequest): void {
    if (this.#clients !== 0) return;
    const requests = this.#requestList;
    for (let i = 0; i < requests.length; i++) {
      if (!requests[i].responded && requests[i] !== answering) {
        throw argumentError(
          "range",
          `Answer the request received on channel "${this.#end.name}" before receiving the next`,
        );
      }
    }
  }

  receive(options: ChannelCallOptions | undefined): ChannelRequest {
    checkCallOptions(options);
    if (!this.#server) this.attach();
    this.#checkAnswered();
    const end: Endpoint = this.#end;
    const r = end.core.channelReceive(end.handle, timeoutOption(options?.timeoutMs), end.spins(options));
    if (r < 0) end.fail(r, "receive a request on");
    return this.#request();
  }

  /**
   * Answers `request` with the first `length` bytes of its response area,
   * then receives the next request: one core call (channelRespondReceive),
   * the server's whole hop. The answer is given before the wait, so a
   * time-out of the receive leaves nothing unanswered.
   */
  respondAndReceive(
    request: ChannelRequest,
    length: number,
    options: ChannelCallOptions | undefined,
  ): ChannelRequest {
    // Everything here runs before the answer goes (the core call answers
    // first), so it delays the client: only the checks.
    checkCallOptions(options);
    const token = request instanceof ChannelRequest ? request.tokenFor(length, this.#port) : -1;
    if (token < 0) {
      throw argumentError(
        "type",
        `respondAndReceive() takes a request received on channel "${this.#end.name}"`,
      );
    }
    if (this.#requestList.length > 1) this.#checkAnswered(request);
    const end: Endpoint = this.#end;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const spins = end.spins(options);
    // Answered (or dropped, if no longer being served) whatever the core says,
    // as in respondWith: a handle is never left waiting for an answer it cannot give.
    request.responded = true;
    const r = end.core.channelRespondReceive(
      end.handle,
      token,
      length,
      end.k.CHANNEL_STATUS_OK,
      timeoutMs,
      spins,
    );
    if (r < 0) end.fail(r, "receive a request on");
    return this.#request();
  }

  tryReceive(): ChannelRequest | null {
    if (!this.#server) this.attach();
    this.#checkAnswered();
    const end: Endpoint = this.#end;
    const r = end.core.channelReceiveStep(end.handle, 0, 0, 0);
    if (r === -end.k.MUST_WAIT) return null;
    if (r < 0) end.fail(r, "receive a request on");
    return this.#request();
  }

  /**
   * A request that comes within the wait mode's short poll (asyncPollMs:
   * one core call) resolves at once; otherwise the rest of the wait is
   * awaited off the JavaScript thread.
   */
  receiveAsync(options: ChannelReceiveOptions | undefined): Promise<ChannelRequest> {
    let rest: ChannelReceiveOptions | undefined = options;
    try {
      checkCallOptions(options);
      if (!this.#server) this.attach();
      this.#checkAnswered();
      checkSignal(options?.signal);
      const end: Endpoint = this.#end;
      const timeoutMs = timeoutOption(options?.timeoutMs);
      const mode = end.waitMode(options);
      const signal = options?.signal;
      const pollMs = signal?.aborted ? 0 : asyncPollMs(mode, timeoutMs);
      if (pollMs > 0) {
        const r = end.core.channelReceive(end.handle, pollMs, end.k.WAIT_SPIN);
        if (r >= 0) return Promise.resolve(this.#request());
        if (r !== -end.k.TIMED_OUT || pollMs === timeoutMs) end.fail(r, "receive a request on");
      }
      if (signal === undefined) {
        // Without a signal, no listener, closure or options object of its own
        // per wait (each was an object or a promise per parked message).
        return end.waitAsyncIn(
          this.#receiveStep,
          this.#receiveCancel,
          pollMs > 0 ? afterPollMode(mode) : mode,
          afterPollTimeoutMs(timeoutMs, pollMs),
        ).then(this.#receivedAt);
      }
      if (pollMs > 0) rest = { ...afterPoll(mode, timeoutMs, pollMs), signal };
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#receiveAwaited(rest);
  }

  /**
   * The receive step of an async wait without a signal (kept: one function
   * for every wait). It takes the request's numbers from the scratch at once,
   * into the request object of its place, which #receivedAt then hands out:
   * the result travels with the wait's own promise, never through state that
   * another wait pending at the same time could overwrite.
   */
  readonly #receiveStep = (flags: number): number => {
    const at = this.#end.core.channelReceiveStep(this.#end.handle, 0, 0, flags);
    if (at >= 0) this.#request();
    return at;
  };
  readonly #receiveCancel = (): void => this.#end.core.channelReceiveCancel(this.#end.handle, 0);
  readonly #receivedAt = (at: number): ChannelRequest => {
    if (at < 0) this.#end.fail(at, "receive a request on");
    return this.#requests.get(at)!;
  };

  async #receiveAwaited(options: ChannelReceiveOptions | undefined): Promise<ChannelRequest> {
    const end: Endpoint = this.#end;
    const core = end.core;
    const signal = options?.signal;
    const interrupt = () => core.channelInterrupt(end.handle);
    signal?.addEventListener("abort", interrupt, { once: true });
    let request: ChannelRequest | undefined;
    try {
      const r = await end.waitAsync(
        (flags) => {
          const at = core.channelReceiveStep(end.handle, 0, 0, flags);
          if (at >= 0) request = this.#request();
          return at;
        },
        () => core.channelReceiveCancel(end.handle, 0),
        options,
        signal,
      );
      if (r < 0) end.fail(r, "receive a request on");
      return request!;
    } finally {
      signal?.removeEventListener("abort", interrupt);
    }
  }

  async serve(handler: ChannelHandler, options: ServeOptions): Promise<void> {
    if (typeof handler !== "function") {
      throw argumentError("type", `The handler of serve() must be a function, not ${typeof handler}`);
    }
    const { signal } = checkOptions(options, "serve()");
    checkSignal(signal);
    if (!this.#server) this.attach();
    while (!signal?.aborted) {
      let request: ChannelRequest;
      try {
        request = this.tryReceive() ?? await this.receiveAsync({ signal, wait: options.wait });
      } catch (error) {
        if (signal?.aborted) return;
        throw error;
      }
      try {
        const result = await handler(request);
        if (!request.responded) request.respond(result ?? "");
      } catch (error) {
        if (!request.responded) request.fail(error instanceof Error ? error.message : String(error));
      }
    }
  }

  /** Gives up the server role, if held. */
  detach(): void {
    if (this.#server) this.#end.core.channelServerDetach(this.#end.handle);
    this.#server = false;
  }
}
