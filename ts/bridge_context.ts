/**
 * What every bridged object (bridge_channel.ts, bridge_topic.ts,
 * bridge_queue.ts) needs of its bridge: the segment, the NATS connection
 * (null until the first connect), the subjects' prefix, the limits, and its
 * counters, which the bridge publishes for `wshm inspect`.
 *
 * @module
 */

import type { MsgHdrs, NatsConnection } from "@nats-io/transport-node";
import type { Segment } from "./segment.ts";
import { WshmError } from "./errors.ts";
import { type Subjects, subjectsOf } from "./bridge_wire.ts";

/** @internal */
export interface BridgeContext {
  readonly segment: Segment;
  readonly prefix: string;
  /** The connection once made (it reconnects by itself afterwards); null before. */
  connection(): NatsConnection | null;
  /** True while connected to a NATS server (false before the first connect and while reconnecting). */
  connected(): boolean;
  /** Resolves once connected for the first time, or when the bridge closes (then with null). */
  readonly ready: Promise<NatsConnection | null>;
  /** Aborted when the bridge closes. */
  readonly signal: AbortSignal;
  /** The longest a relayed call waits for the far side (ms). */
  readonly requestTimeoutMs: number;
  /** The largest NATS message this bridge sends (the server's max_payload, at most 1 MiB). */
  maxPayload(): number;
  /** NATS headers (from the client library, which the bridge loads). */
  headers(): MsgHdrs;
  log(message: string): void;
}

/** One bridged object's state and counters, as `Bridge.stats()` and `wshm inspect` show them. */
export interface BridgedObjectStats {
  name: string;
  /** "unknown" for an import until a remote exporter has described it. */
  kind: "channel" | "topic" | "queue" | "unknown";
  direction: "export" | "import";
  /** "waiting" (for the far side to describe the object), "active", or "failed: CODE message". */
  state: string;
  /** Messages (requests, records) carried from this segment to NATS. */
  sent: number;
  /** Messages carried from NATS into this segment. */
  received: number;
  /** NATS messages sent and received for them (a batch is one). */
  natsSent: number;
  natsReceived: number;
  /** Records lost on the way, counted exactly where the bridge can know (see docs/bridge.md). */
  missed: number;
  /** Frames or replies from the far side that were malformed and dropped. */
  malformed: number;
  /** Calls answered with an error (channel), or queue batches sent without an acknowledgement yet. */
  errors: number;
}

/** @internal The counters every bridged object keeps. */
export class Counters {
  state = "waiting";
  sent = 0;
  received = 0;
  natsSent = 0;
  natsReceived = 0;
  missed = 0;
  malformed = 0;
  errors = 0;

  stats(
    name: string,
    kind: BridgedObjectStats["kind"],
    direction: BridgedObjectStats["direction"],
  ): BridgedObjectStats {
    return {
      name,
      kind,
      direction,
      state: this.state,
      sent: this.sent,
      received: this.received,
      natsSent: this.natsSent,
      natsReceived: this.natsReceived,
      missed: this.missed,
      malformed: this.malformed,
      errors: this.errors,
    };
  }
}

/** @internal A bridged object. */
export interface BridgedObject {
  readonly name: string;
  /** Runs until the bridge closes; failures are reported in `state` and retried. */
  run(): Promise<void>;
  /** Gives up the local roles (server, publisher, subscriber). */
  close(): void;
  stats(): BridgedObjectStats;
}

/** @internal What every bridged object has: its name, the bridge, its subjects and counters. */
export abstract class BridgedBase {
  readonly name: string;
  protected readonly ctx: BridgeContext;
  protected readonly subjects: Subjects;
  protected readonly counters: Counters = new Counters();

  constructor(ctx: BridgeContext, name: string) {
    this.ctx = ctx;
    this.name = name;
    this.subjects = subjectsOf(ctx.prefix, name);
  }
}

/** The state text of a failure: "failed: CODE message". */
export function failedState(error: unknown): string {
  if (error instanceof WshmError) return `failed: ${error.code} ${error.message}`;
  const e = error as { code?: unknown; message?: unknown };
  return `failed: ${typeof e?.code === "string" ? e.code + " " : ""}${String(e?.message ?? error)}`;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Resolves when the wake function handed to `arm` is called, when `signal`
 * aborts, or after `ms` if given; then removes its abort listener and timer.
 * A loop that waits like this once per message must not leave a listener on
 * the bridge's signal each time (they pile up for the bridge's life; Node
 * warns of a leak after 10).
 */
export function waitForWake(
  signal: AbortSignal,
  arm: (wake: () => void) => void,
  ms?: number,
): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = ms === undefined ? undefined : setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    arm(done);
  });
}

/** Ends a NATS subscription; one already ended by a closed connection is fine. */
export function unsubscribe(subscription: { unsubscribe(): void } | null | undefined): void {
  try {
    subscription?.unsubscribe();
  } catch {
    // The connection is closed: so is the subscription.
  }
}

/** True if `error` is a WshmError with one of `codes`. */
export function isCode(error: unknown, ...codes: string[]): boolean {
  return error instanceof WshmError && codes.includes(error.code);
}
