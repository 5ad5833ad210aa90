/**
 * The channel's options and statistics, and what the two halves of one
 * exchange (the server's request, channel_request.ts, and the client's call,
 * channel_call.ts) reach of their channel: the port.
 *
 * @module
 */

import type { CoreConstants } from "./core.ts";
import type { WaitMode } from "./wait.ts";
import { WshmError } from "./errors.ts";
import { decodeText } from "./codec.ts";

/**
 * @internal What the request and call objects need of their channel: declared
 * here, so that this module does not import channel.ts (which imports it).
 */
export interface ChannelSide {
  readonly name: string;
  readonly capacity: number;
  readonly bytes: Uint8Array;
  readonly segment: { readonly constants: CoreConstants };
  readonly lastResponseLength: number;
  readonly lastResponseStatus: number;
}

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
 * @internal
 * The error for a response status other than CHANNEL_STATUS_OK: `PeerDied`
 * if the server died with the request (a server that took over said so),
 * `NoServer`, and for a relaying server (a bridge) `Timeout` or
 * `Unavailable`; else `RemoteError` with the server's message.
 */
export function responseError(channel: ChannelSide, status: number, response: Uint8Array): WshmError {
  if (status === channel.segment.constants.CHANNEL_STATUS_SERVER_DIED) {
    return new WshmError("PeerDied", `The server of channel "${channel.name}" died before it answered`);
  }
  if (status === channel.segment.constants.CHANNEL_STATUS_NO_SERVER) {
    const why = response.length > 0 ? decodeText(response) : "detached before it answered";
    return new WshmError("NoServer", `The server of channel "${channel.name}" ${why}`);
  }
  if (status === channel.segment.constants.CHANNEL_STATUS_TIMED_OUT) {
    return new WshmError(
      "Timeout",
      `The server of channel "${channel.name}" timed out: ${decodeText(response)}`,
    );
  }
  if (status === channel.segment.constants.CHANNEL_STATUS_UNAVAILABLE) {
    return new WshmError(
      "Unavailable",
      `The server of channel "${channel.name}" is unavailable: ${decodeText(response)}`,
    );
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
  /** post then awaitResponse, in one core call. */
  send(at: number, length: number, options: ChannelCallOptions | undefined): number;
  /**
   * The response's offset if it came within the call's synchronous poll
   * (see asyncPollMs), else a promise of it; throws what the core reports.
   */
  awaitResponseAsync(options: ChannelCallOptions | undefined): number | Promise<number>;
  begin(options: ChannelCallOptions | undefined): number;
  end(at: number): void;
  view(at: number, length: number): Uint8Array;
}
