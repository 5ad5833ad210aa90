/**
 * The request/response channel: clients send requests, one server answers.
 * Classic mode is the semaphore exchange over one shared buffer; many-client
 * mode serves several clients at once through a request queue and a
 * response slot per client. See docs/queues.md for both protocols.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError, WshmError } from "./errors.ts";
import { statusError } from "./status.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger, checkOptions, shown } from "./names.ts";
import { ChannelCall, type ChannelPort, ChannelRequest, responseError } from "./channel_exchange.ts";
import type {
  ChannelCallOptions,
  ChannelHandler,
  ChannelOptions,
  ChannelReceiveOptions,
  ChannelStats,
  ServeOptions,
} from "./channel_exchange.ts";

export type {
  ChannelCallOptions,
  ChannelHandler,
  ChannelOptions,
  ChannelReceiveOptions,
  ChannelStats,
  ServeOptions,
} from "./channel_exchange.ts";

function checkSignal(signal: unknown): void {
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw argumentError("type", `Invalid signal ${shown(signal)}: it must be an AbortSignal`);
  }
}

/**
 * A request/response channel. Client side: `request()` (copy in, copy
 * out), `requestAsync()`, and `begin()` for a zero-copy exchange. Server
 * side: `receive()` / `tryReceive()` / `receiveAsync()` hand out a
 * {@linkcode ChannelRequest} to answer, and `serve(handler)` loops.
 *
 * Errors: `Timeout` (timeoutMs ran out), `PeerDied` (the server died: within
 * about 100 ms of its death a waiting client gets this; the channel stays
 * usable and the next server takes over), `TooLarge` (past `capacity`),
 * `RemoteError` (the server's handler failed), `Exists` (another live server
 * is attached), `NoSpace` (many-client mode: every client slot is held).
 * A client killed mid-exchange wedges nobody: the next client (classic) or
 * the server (many-client) carries on.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * // server process
 * using segment = Segment.create("/rpc", { size: 1 << 20 });
 * const channel = segment.channel("echo", { capacity: 4096 });
 * const stop = new AbortController();
 * const serving = channel.serve((request) => request.text().toUpperCase(), { signal: stop.signal });
 * // client process (another runtime, say):
 * //   const reply = Segment.open("/rpc").channel("echo").request("hi", { timeoutMs: 1000 });
 * //   new TextDecoder().decode(reply) === "HI"
 * stop.abort();
 * await serving;
 * segment.unlink();
 * ```
 */
export class Channel implements Disposable {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  /** The longest request or response. */
  readonly capacity: number;
  /** Client slots; 0 in classic mode. */
  readonly clients: number;
  /** The segment's bytes: every `at` offset of this API indexes this view. */
  readonly bytes: Uint8Array;
  /** The default wait mode of this handle. */
  wait: WaitMode;
  /** @internal Length of the last response this handle received (for ChannelCall). */
  lastResponseLength = 0;
  /** @internal Status of the last response this handle received (for ChannelCall). */
  lastResponseStatus = 0;
  readonly #k: Readonly<Record<string, number>>;
  readonly #scratch: Uint32Array;
  readonly #words: Int32Array;
  readonly #port: ChannelPort;
  readonly #call: ChannelCall;
  readonly #requests = new Map<number, ChannelRequest>();
  #slot = -1;
  #server = false;
  #asyncBusy = false;
  #turn: Promise<void> = Promise.resolve();

  /** @internal Use the Segment accessor (`segment.channel(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    const core = segment.core;
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.#k = k;
    spinsFor(k, wait);
    this.wait = wait;
    this.capacity = core.channelInfo(handle, k.CHANNEL_INFO_CAPACITY);
    this.clients = core.channelInfo(handle, k.CHANNEL_INFO_CLIENTS);
    if (this.capacity < 0) throw statusError(k.CORRUPT, `Cannot open channel "${name}"`);
    this.bytes = new Uint8Array(segment.memory.buffer, k.SEGMENT_BASE, segment.size);
    this.#scratch = new Uint32Array(segment.memory.buffer, core.channelScratch.value, 4);
    this.#words = new Int32Array(segment.memory.buffer);
    this.#port = this.#makePort();
    this.#call = new ChannelCall(this.#port);
  }

  /** @internal Opens (or creates) the channel `name` of `map`: Segment.channel(). */
  static open(map: Mapping, name: string, options: ChannelOptions = {}): Channel {
    const k = map.constants;
    map.checkAccess(name, options, "channel", options?.wait ?? "adaptive");
    const capacity = options.capacity ?? 4096;
    const clients = options.clients ?? 0;
    checkInteger(
      capacity,
      "capacity",
      1,
      k.CHANNEL_MAX_CAPACITY,
      `an integer from 1 to ${k.CHANNEL_MAX_CAPACITY} for channel "${name}"`,
    );
    checkInteger(
      clients,
      "clients",
      0,
      k.CHANNEL_MAX_CLIENTS,
      `an integer from 0 to ${k.CHANNEL_MAX_CLIENTS} for channel "${name}"`,
    );
    return map.cached(`channel:${name}`, () => {
      const found = map.findOrCreate(k.KIND_CHANNEL, name, options, capacity, clients);
      return new Channel(map, name, found.handle, options.wait ?? "adaptive");
    });
  }

  #fail(status: number, what: string): never {
    throw statusError(-status, `Cannot ${what} channel "${this.name}"`);
  }

  #spins(options: ChannelCallOptions | undefined): number {
    return spinsFor(this.#k, options?.wait ?? this.wait);
  }

  #makePort(): ChannelPort {
    const core = this.segment.core;
    return {
      channel: this,
      view: (at, length) => this.bytes.subarray(at, at + length),
      begin: (options) => {
        this.#client();
        const at = core.channelBegin(
          this.handle,
          this.#slot,
          timeoutOption(options?.timeoutMs),
          this.#spins(options),
        );
        if (at < 0) this.#fail(at, "send a request on");
        return at;
      },
      post: (at, length) => {
        const r = core.channelPost(this.handle, this.#slot, at, length);
        if (r < 0) this.#fail(r, "send a request on");
      },
      awaitResponse: (options) => {
        const r = core.channelAwait(
          this.handle,
          this.#slot,
          timeoutOption(options?.timeoutMs),
          this.#spins(options),
        );
        if (r < 0) this.#fail(r, "receive a response on");
        this.#response();
        return r;
      },
      awaitResponseAsync: async (options) => {
        const r = await this.#await(options, (at) => {
          this.#response();
          return at;
        });
        return r as number;
      },
      end: (at) => {
        core.channelEnd(this.handle, this.#slot, at);
      },
      serving: (token) => core.channelResponseBuffer(this.handle, token) >= 0,
      respond: (token, length, status) => {
        const r = core.channelRespond(this.handle, token, length, status);
        if (r < 0) this.#fail(r, "respond on");
      },
    };
  }

  #response(): void {
    this.lastResponseLength = this.#scratch[1];
    this.lastResponseStatus = this.#scratch[2];
  }

  /** Waits for the response without blocking the event loop; `take` runs as soon as it is there. */
  async #await(options: ChannelCallOptions | undefined, take: (at: number) => unknown): Promise<unknown> {
    const core = this.segment.core;
    let taken: unknown;
    const r = await awaitStep(
      this.segment,
      this.#words,
      (flags) => {
        const at = core.channelAwaitStep(this.handle, this.#slot, 0, flags);
        if (at >= 0) taken = take(at);
        return at;
      },
      () => core.channelAwaitCancel(this.handle, this.#slot),
      timeoutOption(options?.timeoutMs),
      options?.wait ?? this.wait,
    );
    if (r < 0) this.#fail(r, "receive a response on");
    return taken;
  }

  // ── client ────────────────────────────────────────────────────────────

  #client(): void {
    if (this.#slot >= 0) return;
    this.segment.assertOpen();
    const slot = this.segment.core.channelClientAttach(this.handle);
    if (slot === -this.#k.FULL) {
      throw new WshmError(
        "NoSpace",
        `Cannot attach to channel "${this.name}": its ${this.clients} client slots are held by live processes`,
      );
    }
    if (slot < 0) this.#fail(slot, "attach to");
    this.#slot = slot;
  }

  #checkIdle(): void {
    if (this.#asyncBusy) {
      throw argumentError(
        "range",
        `A requestAsync() on channel "${this.name}" is in progress in this handle`,
      );
    }
  }

  /**
   * Sends `message` and waits for the response; returns a copy of it. One
   * `timeoutMs` covers the whole exchange.
   */
  request(message: Message, options?: ChannelCallOptions): Uint8Array {
    checkCallOptions(options);
    this.#checkIdle();
    const length = messageLength(message);
    this.#checkLength(length, "send");
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const started = timeoutMs < 0 ? 0 : performance.now();
    const call = this.#call.open(options);
    try {
      writeMessage(this.bytes, call.requestAt, message);
      const remaining = timeoutMs < 0 ? undefined : Math.max(0, timeoutMs - (performance.now() - started));
      const n = call.send(length, { timeoutMs: remaining, wait: options?.wait });
      return this.bytes.slice(call.responseAt, call.responseAt + n);
    } finally {
      call.end();
    }
  }

  /** Like `request`, without blocking the event loop. Calls on one handle run one after another. */
  async requestAsync(message: Message, options?: ChannelCallOptions): Promise<Uint8Array> {
    checkCallOptions(options);
    const length = messageLength(message);
    this.#checkLength(length, "send");
    const previous = this.#turn;
    let done!: () => void;
    this.#turn = new Promise<void>((resolve) => (done = resolve));
    await previous;
    this.#asyncBusy = true;
    const core = this.segment.core;
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    const left = () => (deadline === Infinity ? -1 : Math.max(0, deadline - performance.now()));
    const mode = options?.wait ?? this.wait;
    let acquired = false;
    let at = 0;
    try {
      this.#client();
      const slot = this.#slot;
      const r = await awaitStep(
        this.segment,
        this.#words,
        (f) => core.channelAcquireStep(this.handle, slot, 0, f),
        () => core.channelAcquireCancel(this.handle, slot),
        left(),
        mode,
      );
      if (r < 0) this.#fail(r, "send a request on");
      acquired = true;
      at = await awaitStep(
        this.segment,
        this.#words,
        (f) => core.channelPrepareStep(this.handle, slot, 0, f),
        () => core.channelPrepareCancel(this.handle, slot),
        left(),
        mode,
      );
      if (at < 0) this.#fail(at, "send a request on");
      writeMessage(this.bytes, at, message);
      this.#port.post(at, length);
      at = 0;
      const reply = await this.#await(
        { timeoutMs: left() < 0 ? undefined : left(), wait: mode },
        (response) => {
          this.#response();
          return this.bytes.slice(response, response + this.lastResponseLength);
        },
      ) as Uint8Array;
      if (this.lastResponseStatus !== this.#k.CHANNEL_STATUS_OK) {
        throw responseError(this, this.lastResponseStatus, reply);
      }
      return reply;
    } finally {
      if (acquired) core.channelEnd(this.handle, this.#slot, at);
      this.#asyncBusy = false;
      done();
    }
  }

  /**
   * Opens a zero-copy exchange: write into `call.request`, then
   * `call.send(length)`, read `call.response`, then `call.end()` (or let
   * `using` end it). The returned object is reused by the next `begin`.
   */
  begin(options?: ChannelCallOptions): ChannelCall {
    checkCallOptions(options);
    this.#checkIdle();
    return this.#call.open(options);
  }

  #checkLength(length: number, what: string): void {
    if (length > this.capacity) {
      throw new WshmError(
        "TooLarge",
        `Cannot ${what} ${length} bytes on channel "${this.name}": it carries ${this.capacity}`,
      );
    }
  }

  // ── server ────────────────────────────────────────────────────────────

  /**
   * Becomes the channel's server (done by the first receive anyway).
   * Returns true if it took over from a server that had died; throws
   * `Exists` if a live server is attached.
   */
  attachServer(): boolean {
    this.segment.assertOpen();
    const status = this.segment.core.channelServerAttach(this.handle);
    if (status === -this.#k.EXISTS) {
      const pid = this.segment.core.channelInfo(this.handle, this.#k.CHANNEL_INFO_SERVER);
      throw new WshmError("Exists", `Cannot serve channel "${this.name}": process ${pid} serves it`);
    }
    if (status < 0) this.#fail(status, "serve");
    this.#server = true;
    return status === this.#k.OWNER_DIED;
  }

  #request(): ChannelRequest {
    const s = this.#scratch;
    let request = this.#requests.get(s[0]);
    if (request === undefined) {
      request = new ChannelRequest(this.#port);
      this.#requests.set(s[0], request);
    }
    return request.reset(s[0], s[1], s[2], s[3]);
  }

  /** Classic mode serves one exchange at a time: a second receive before answering would wait forever. */
  #checkAnswered(): void {
    if (this.clients !== 0) return;
    for (const request of this.#requests.values()) {
      if (!request.responded) {
        throw argumentError(
          "range",
          `Answer the request received on channel "${this.name}" before receiving the next`,
        );
      }
    }
  }

  /** The next request, waiting for one (throws `Timeout`). */
  receive(options?: ChannelCallOptions): ChannelRequest {
    checkCallOptions(options);
    if (!this.#server) this.attachServer();
    this.#checkAnswered();
    const r = this.segment.core.channelReceive(
      this.handle,
      timeoutOption(options?.timeoutMs),
      this.#spins(options),
    );
    if (r < 0) this.#fail(r, "receive a request on");
    return this.#request();
  }

  /** The next request if there is one now, else null. */
  tryReceive(): ChannelRequest | null {
    if (!this.#server) this.attachServer();
    this.#checkAnswered();
    const r = this.segment.core.channelReceiveStep(this.handle, 0, 0, 0);
    if (r === -this.#k.MUST_WAIT) return null;
    if (r < 0) this.#fail(r, "receive a request on");
    return this.#request();
  }

  /** Like `receive`, without blocking the event loop; `signal` stops the wait. */
  async receiveAsync(options?: ChannelReceiveOptions): Promise<ChannelRequest> {
    checkCallOptions(options);
    if (!this.#server) this.attachServer();
    this.#checkAnswered();
    const core = this.segment.core;
    const signal = options?.signal;
    checkSignal(signal);
    const interrupt = () => core.channelInterrupt(this.handle);
    signal?.addEventListener("abort", interrupt, { once: true });
    let request: ChannelRequest | undefined;
    try {
      const r = await awaitStep(
        this.segment,
        this.#words,
        (flags) => {
          const at = core.channelReceiveStep(this.handle, 0, 0, flags);
          if (at >= 0) request = this.#request();
          return at;
        },
        () => core.channelReceiveCancel(this.handle, 0),
        timeoutOption(options?.timeoutMs),
        options?.wait ?? this.wait,
        signal,
      );
      if (r < 0) this.#fail(r, "receive a request on");
      return request!;
    } finally {
      signal?.removeEventListener("abort", interrupt);
    }
  }

  /**
   * Answers requests with `handler` until `signal` aborts (then resolves).
   * The handler's return value is the response (unless it responded
   * itself); if it throws, the client gets `RemoteError` with the message
   * and serving goes on.
   */
  async serve(handler: ChannelHandler, options: ServeOptions = {}): Promise<void> {
    if (typeof handler !== "function") {
      throw argumentError("type", `The handler of serve() must be a function, not ${typeof handler}`);
    }
    const { signal } = checkOptions(options, "serve()");
    checkSignal(signal);
    if (!this.#server) this.attachServer();
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

  // ── both ──────────────────────────────────────────────────────────────

  /** Roles, counters and occupancy, for inspection. */
  stats(): ChannelStats {
    const core = this.segment.core;
    const k = this.#k;
    const info = (which: number) => core.channelInfo(this.handle, which) as number;
    return {
      mode: this.clients === 0 ? "classic" : "many-client",
      capacity: this.capacity,
      clients: this.clients,
      attachedClients: info(k.CHANNEL_INFO_ATTACHED),
      serverPid: info(k.CHANNEL_INFO_SERVER),
      served: info(k.CHANNEL_INFO_SERVED),
      accessHolderPid: info(k.CHANNEL_INFO_ACCESS_HOLDER),
    };
  }

  /** Gives up this handle's server role and client slot. */
  detach(): void {
    if (this.segment.closed) return;
    this.#call.end();
    if (this.#server) this.segment.core.channelServerDetach(this.handle);
    if (this.#slot >= 0) this.segment.core.channelClientDetach(this.handle, this.#slot);
    this.#server = false;
    this.#slot = -1;
  }

  [Symbol.dispose](): void {
    this.detach();
  }
}
