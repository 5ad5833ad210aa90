/**
 * The request/response channel: clients send requests, one server answers.
 * Classic mode is the semaphore exchange over one shared buffer; many-client
 * mode serves several clients at once through a request queue and a
 * response slot per client. See docs/queues.md for both protocols. The
 * client side is in channel_client.ts, the server side in channel_server.ts.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import type { Message } from "./codec.ts";
import type { WaitMode } from "./wait.ts";
import { checkInteger } from "./names.ts";
import { Endpoint } from "./endpoint.ts";
import { ChannelClient } from "./channel_client.ts";
import { ChannelServer } from "./channel_server.ts";
import type { ChannelCall } from "./channel_call.ts";
import type { ChannelHandler, ChannelRequest } from "./channel_request.ts";
import type {
  ChannelCallOptions,
  ChannelOptions,
  ChannelReceiveOptions,
  ChannelStats,
  ServeOptions,
} from "./channel_types.ts";

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
 * import { Segment } from "wshm";
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
  readonly #end: Endpoint;
  readonly #client: ChannelClient;
  readonly #server: ChannelServer;

  /** @internal Use the Segment accessor (`segment.channel(name)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    const k = segment.constants;
    const core = segment.core;
    this.wait = wait;
    const end = new Endpoint(segment, "channel", name, handle, this, core.channelScratch, 4);
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.capacity = core.channelInfo(handle, k.CHANNEL_INFO_CAPACITY);
    this.clients = core.channelInfo(handle, k.CHANNEL_INFO_CLIENTS);
    end.checkGeometry(this.capacity);
    this.bytes = end.bytes;
    this.#end = end;
    this.#client = new ChannelClient(end, this);
    this.#server = new ChannelServer(end, this.#client.port, this.clients);
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

  /** @internal Length of the last response this handle received (for ChannelCall). */
  get lastResponseLength(): number {
    return this.#client.responseLength;
  }

  /** @internal Status of the last response this handle received (for ChannelCall). */
  get lastResponseStatus(): number {
    return this.#client.responseStatus;
  }

  // ── client (channel_client.ts) ────────────────────────────────────────

  /**
   * Sends `message` and waits for the response; returns a copy of it. One
   * `timeoutMs` covers the whole exchange.
   */
  request(message: Message, options?: ChannelCallOptions): Uint8Array {
    return this.#client.request(message, options);
  }

  /** Like `request`, without blocking the event loop. Calls on one handle run one after another. */
  requestAsync(message: Message, options?: ChannelCallOptions): Promise<Uint8Array> {
    return this.#client.requestAsync(message, options);
  }

  /**
   * Opens a zero-copy exchange: write into `call.request`, then
   * `call.send(length)`, read `call.response`, then `call.end()` (or let
   * `using` end it). The returned object is reused by the next `begin`.
   */
  begin(options?: ChannelCallOptions): ChannelCall {
    return this.#client.begin(options);
  }

  // ── server (channel_server.ts) ────────────────────────────────────────

  /**
   * Becomes the channel's server (done by the first receive anyway).
   * Returns true if it took over from a server that had died; throws
   * `Exists` if a live server is attached.
   */
  attachServer(): boolean {
    return this.#server.attach();
  }

  /** The next request, waiting for one (throws `Timeout`). */
  receive(options?: ChannelCallOptions): ChannelRequest {
    return this.#server.receive(options);
  }

  /**
   * Answers `request` with the first `length` bytes already written into its
   * `response` area (as `request.respondWith(length)`), then waits for the
   * next request and returns it (as `receive(options)`): both in one call
   * into the core, the server's whole hop. Throws `Timeout` if no request
   * comes (the answer was given); `TooLarge` past capacity and `InvalidArgument`
   * for a request already answered, before anything is sent.
   *
   * @example
   * ```ts
   * import { Segment, type WshmError, writeText } from "wshm";
   * using segment = Segment.create("/respond-receive", { size: 1 << 20 });
   * const channel = segment.channel("echo", { capacity: 64 });
   * // A client, usually another process; here an async request of this one.
   * const reply = channel.requestAsync("hi", { timeoutMs: 1000 });
   * const request = await channel.receiveAsync({ timeoutMs: 1000 });
   * const n = writeText(request.response, request.text().toUpperCase()); // the answer, in place
   * try {
   *   // A server's loop: `request = channel.respondAndReceive(request, n, options)`.
   *   channel.respondAndReceive(request, n, { timeoutMs: 10 });
   * } catch (error) {
   *   console.log((error as WshmError).code); // Timeout: the answer went, no other request came
   * }
   * console.log(new TextDecoder().decode(await reply)); // HI
   * segment.unlink();
   * ```
   */
  respondAndReceive(request: ChannelRequest, length: number, options?: ChannelCallOptions): ChannelRequest {
    return this.#server.respondAndReceive(request, length, options);
  }

  /** The next request if there is one now, else null. */
  tryReceive(): ChannelRequest | null {
    return this.#server.tryReceive();
  }

  /** Like `receive`, without blocking the event loop; `signal` stops the wait. */
  receiveAsync(options?: ChannelReceiveOptions): Promise<ChannelRequest> {
    return this.#server.receiveAsync(options);
  }

  /**
   * Answers requests with `handler` until `signal` aborts (then resolves).
   * The handler's return value is the response (unless it responded
   * itself); if it throws, the client gets `RemoteError` with the message
   * and serving goes on.
   */
  serve(handler: ChannelHandler, options: ServeOptions = {}): Promise<void> {
    return this.#server.serve(handler, options);
  }

  // ── both ──────────────────────────────────────────────────────────────

  /** Roles, counters and occupancy, for inspection. */
  stats(): ChannelStats {
    const k = this.#end.k;
    const info = (which: number) => this.#end.core.channelInfo(this.handle, which) as number;
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
    this.#client.call.end();
    this.#server.detach();
    this.#client.detach();
  }

  [Symbol.dispose](): void {
    this.detach();
  }
}
