/**
 * A channel across hosts: NATS request/reply carries each request and its
 * response, with the reply inbox as the correlation. A bridged call is
 * at-most-once: it reaches the remote server once or not at all, and a caller
 * gets the response to its own request or an error, never another's (the
 * local core answers by the request's token; an answer for a request whose
 * caller gave up is dropped by the core).
 *
 *   local client --channel--> importing bridge --P.NAME.call--> exporting bridge --channel--> server
 *               <-----------                   <--reply, Wshm-Status--          <-----------
 *
 * How a call ends on the caller's side (the importing bridge answers with a
 * channel status that the client's call throws as the code):
 *
 *   remote answered                      response                (ok)
 *   remote handler failed                RemoteError             (Wshm-Status: failed)
 *   remote server died with the request  PeerDied                (died)
 *   remote local call timed out          Timeout                 (timeout)
 *   no bridge exports the name           NoServer                (NATS: no responders)
 *   remote server not attached           NoServer                (no-server)
 *   NATS not connected now               Unavailable             (answered at once)
 *   no reply within requestTimeoutMs     Timeout
 *   exporter's queue of calls full       Unavailable             (busy)
 *
 * @module
 */

import type { Msg } from "@nats-io/transport-node";
import type { Channel } from "./channel.ts";
import type { ChannelRequest } from "./channel_request.ts";
import { WshmError } from "./errors.ts";
import {
  type BridgeContext,
  BridgedBase,
  type BridgedObject,
  type BridgedObjectStats,
  failedState,
  isCode,
  pause,
  unsubscribe,
  waitForWake,
} from "./bridge_context.ts";
import { type CallStatus, HEADER_STATUS, HEADER_TIMEOUT } from "./bridge_wire.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Calls an exporter holds before it answers `busy`: one local client serves them one at a time. */
const MAX_PENDING_CALLS = 256;

function statusOf(error: unknown): CallStatus {
  if (isCode(error, "Timeout")) return "timeout";
  if (isCode(error, "PeerDied")) return "died";
  if (isCode(error, "NoServer")) return "no-server";
  if (isCode(error, "TooLarge")) return "too-large";
  return "failed";
}

/** Exports a local channel: requests from NATS are made by this bridge as a client of the channel. */
export class ChannelExport extends BridgedBase implements BridgedObject {
  readonly #channel: Channel;
  readonly #pending: { msg: Msg; deadline: number }[] = [];
  #wake: (() => void) | null = null;

  constructor(ctx: BridgeContext, name: string, channel: Channel) {
    super(ctx, name);
    this.#channel = channel;
  }

  async run(): Promise<void> {
    const nc = await this.ctx.ready;
    if (nc === null) return;
    const signal = this.ctx.signal;
    const subscription = nc.subscribe(this.subjects.call, {
      queue: this.subjects.group,
      callback: (_error, msg) => this.#enqueue(msg),
    });
    this.counters.state = "active";
    // A run that fails is run again by the bridge: what it set up goes with it.
    try {
      while (!signal.aborted) {
        const call = this.#pending.shift();
        if (call === undefined) {
          await waitForWake(signal, (wake) => (this.#wake = wake));
          this.#wake = null;
          continue;
        }
        await this.#serve(call.msg, call.deadline);
      }
    } finally {
      unsubscribe(subscription);
    }
  }

  #enqueue(msg: Msg): void {
    this.counters.natsReceived++;
    if (msg.reply === undefined || msg.reply === "") {
      this.counters.malformed++;
      return;
    }
    if (this.#pending.length >= MAX_PENDING_CALLS) {
      this.#reply(msg, "busy", encoder.encode(`the exporting bridge has ${MAX_PENDING_CALLS} calls waiting`));
      return;
    }
    const asked = Number(msg.headers?.get(HEADER_TIMEOUT) ?? "");
    const timeoutMs = Number.isSafeInteger(asked) && asked > 0
      ? Math.min(asked, this.ctx.requestTimeoutMs)
      : this.ctx.requestTimeoutMs;
    this.#pending.push({ msg, deadline: Date.now() + timeoutMs });
    this.#wake?.();
  }

  #reply(msg: Msg, status: CallStatus, data: Uint8Array): void {
    const headers = this.ctx.headers();
    headers.set(HEADER_STATUS, status);
    if (status !== "ok") this.counters.errors++;
    try {
      msg.respond(data, { headers });
      this.counters.natsSent++;
    } catch (error) {
      // Disconnected: the caller's request times out on its side.
      this.ctx.log(`channel ${this.name}: cannot reply: ${(error as Error).message}`);
    }
  }

  async #serve(msg: Msg, deadline: number): Promise<void> {
    const left = deadline - Date.now();
    // The caller has given up already: making the call now would run a request nobody waits for.
    if (left <= 0) return;
    const request = msg.data;
    if (request.length > this.#channel.capacity) {
      this.#reply(
        msg,
        "too-large",
        encoder.encode(`${request.length} bytes; channel "${this.name}" carries ${this.#channel.capacity}`),
      );
      return;
    }
    this.counters.received++;
    try {
      const response = await this.#channel.requestAsync(request, { timeoutMs: left });
      this.counters.sent++;
      this.#reply(msg, "ok", response);
    } catch (error) {
      const status = statusOf(error);
      this.#reply(msg, status, encoder.encode(error instanceof Error ? error.message : String(error)));
      if (!(error instanceof WshmError)) this.counters.state = failedState(error);
    }
  }

  close(): void {
    this.#wake?.();
  }

  stats(): BridgedObjectStats {
    return this.counters.stats(this.name, "channel", "export");
  }
}

/**
 * Imports a remote channel: this bridge is the local channel's server and
 * relays each request it receives. In many-client mode every client's request
 * is relayed at once (each waits for its own reply); in classic mode one at a
 * time, as the exchange requires.
 */
export class ChannelImport extends BridgedBase implements BridgedObject {
  readonly #channel: Channel;
  #attached = false;

  constructor(ctx: BridgeContext, name: string, channel: Channel) {
    super(ctx, name);
    this.#channel = channel;
  }

  async run(): Promise<void> {
    const signal = this.ctx.signal;
    if (!this.#attached) {
      const tookOver = this.#channel.attachServer();
      this.#attached = true;
      if (tookOver) this.ctx.log(`channel ${this.name}: took the server role over from a dead bridge`);
    }
    this.counters.state = "active";
    const concurrent = this.#channel.stats().mode === "many-client";
    while (!signal.aborted) {
      let request: ChannelRequest;
      try {
        request = await this.#channel.receiveAsync({ signal });
      } catch (error) {
        if (signal.aborted) break;
        this.counters.state = failedState(error);
        await pause(500, signal);
        continue;
      }
      // Each relay answers its own request whatever happens; a failure of the answer itself is reported.
      const relayed = this.#relay(request).catch((error) => {
        this.counters.errors++;
        this.ctx.log(`channel ${this.name}: cannot answer a request: ${failedState(error)}`);
      });
      if (!concurrent) await relayed;
    }
  }

  async #relay(request: ChannelRequest): Promise<void> {
    const k = this.ctx.segment.constants;
    const nc = this.ctx.connection();
    if (nc === null || !this.ctx.connected()) {
      this.counters.errors++;
      request.failWith(k.CHANNEL_STATUS_UNAVAILABLE, "the bridge is not connected to NATS");
      return;
    }
    // A copy: the request's bytes stay the client's only until it is answered.
    const data = request.bytes.slice();
    this.counters.sent++;
    const headers = this.ctx.headers();
    headers.set(HEADER_TIMEOUT, String(this.ctx.requestTimeoutMs));
    let reply: Msg;
    try {
      this.counters.natsSent++;
      reply = await nc.request(this.subjects.call, data, { timeout: this.ctx.requestTimeoutMs, headers });
      this.counters.natsReceived++;
    } catch (error) {
      this.counters.errors++;
      const e = error as { name?: string; message?: string; isNoResponders?: () => boolean };
      const message = String(e?.message ?? error);
      if (typeof e?.isNoResponders === "function" && e.isNoResponders()) {
        request.failWith(
          k.CHANNEL_STATUS_NO_SERVER,
          `is not exported by any bridge (no NATS responders on ${this.subjects.call})`,
        );
      } else if (e?.name === "TimeoutError") {
        request.failWith(
          k.CHANNEL_STATUS_TIMED_OUT,
          `no reply over NATS within ${this.ctx.requestTimeoutMs} ms`,
        );
      } else {
        request.failWith(k.CHANNEL_STATUS_UNAVAILABLE, `NATS: ${message}`);
      }
      return;
    }
    this.#answer(request, reply);
  }

  #answer(request: ChannelRequest, reply: Msg): void {
    const k = this.ctx.segment.constants;
    const status = reply.headers?.get(HEADER_STATUS) ?? "";
    const text = () => decoder.decode(reply.data.subarray(0, this.#channel.capacity));
    switch (status) {
      case "ok":
        if (reply.data.length > this.#channel.capacity) {
          this.counters.malformed++;
          request.fail(
            `the remote response has ${reply.data.length} bytes; channel "${this.name}" carries ${this.#channel.capacity}`,
          );
          return;
        }
        request.respond(reply.data);
        this.counters.received++;
        return;
      case "failed":
      case "too-large":
        this.counters.errors++;
        request.fail(text());
        return;
      case "timeout":
        this.counters.errors++;
        request.failWith(k.CHANNEL_STATUS_TIMED_OUT, `remotely: ${text()}`);
        return;
      case "died":
        this.counters.errors++;
        request.failWith(k.CHANNEL_STATUS_SERVER_DIED, "");
        return;
      case "no-server":
        this.counters.errors++;
        request.failWith(k.CHANNEL_STATUS_NO_SERVER, `is remote and not served: ${text()}`);
        return;
      case "busy":
        this.counters.errors++;
        request.failWith(k.CHANNEL_STATUS_UNAVAILABLE, `remotely: ${text()}`);
        return;
      default:
        // Not a bridge's reply (a foreign responder on the subject): never taken as a response.
        this.counters.malformed++;
        request.fail(`the reply on ${this.subjects.call} is not from a wshm bridge`);
    }
  }

  close(): void {
    this.#channel.detach();
  }

  stats(): BridgedObjectStats {
    return this.counters.stats(this.name, "channel", "import");
  }
}
