/**
 * Bridges a segment's channels, topics and queues to other hosts through a
 * NATS server, so that programs keep the ordinary wshm API whether the other
 * side is local or remote. Loaded from `wshm/bridge`, so that programs that
 * never bridge never load the NATS client.
 *
 *   host A: clients, publishers, producers          host B: servers, subscribers, consumers
 *     segment /a <-> Bridge(--import rpc)  <== NATS ==>  Bridge(--export rpc) <-> segment /b
 *
 * One bridge per segment at a time (the `wshm.bridge` mutex in the segment is
 * its role; a bridge that was killed is taken over by the next). Nothing is
 * exported unless named. What each kind guarantees is in bridge_channel.ts,
 * bridge_topic.ts and bridge_queue.ts, and in docs/bridge.md.
 *
 * @example
 * ```ts
 * import { Segment } from "wshm";
 * import { Bridge } from "wshm/bridge";
 * using segment = Segment.create("/bridge-example", { size: 1 << 20 });
 * segment.topic("prices", { maxMessage: 256 });
 * // Without a NATS server the bridge still starts, and connects when one appears.
 * const bridge = await Bridge.start({ segment, nats: { servers: "nats://127.0.0.1:1" }, exports: ["prices"] });
 * console.log(bridge.stats().objects[0].kind); // "topic"
 * await bridge.close();
 * segment.unlink();
 * ```
 *
 * @module
 */

import { connect, headers as natsHeaders, type NatsConnection } from "@nats-io/transport-node";
import { Segment } from "./segment.ts";
import { guardAbandonedSocketResets } from "./platform/socket_resets.ts";
import type { Mutex, MutexGuard } from "./mutex.ts";
import type { Blackboard } from "./blackboard.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkOptions, shown } from "./names.ts";
import { type BridgeContext, type BridgedObject, failedState, isCode, pause } from "./bridge_context.ts";
import { ChannelExport, ChannelImport } from "./bridge_channel.ts";
import { describeTopic, TopicExport, TopicImport } from "./bridge_topic.ts";
import { QueueExport, QueueImport } from "./bridge_queue.ts";
import {
  BRIDGE_ROLE,
  BRIDGE_STATUS,
  BRIDGE_STATUS_KEY as STATUS_KEY,
  BRIDGE_STATUS_MAX as STATUS_MAX,
  type BridgeStats,
} from "./bridge_status.ts";
import {
  checkBridgeName,
  checkPrefix,
  type Description,
  parseDescription,
  subjectsOf,
} from "./bridge_wire.ts";

export type { BridgedObjectStats } from "./bridge_context.ts";

export {
  BRIDGE_ROLE,
  BRIDGE_STATUS,
  type BridgeStats,
  type BridgeStatusRecord,
  readBridgeStatus,
} from "./bridge_status.ts";

/** How long Bridge.start() waits for the bridge role: long enough to see that its holder died. */
const ROLE_WAIT_MS = 300;

/** How to reach and log in to NATS; passed through to the NATS client. */
export interface BridgeNatsOptions {
  /** One URL or several (`nats://host:port`, `tls://host:port`). */
  servers: string | string[];
  /** Token authentication. */
  token?: string;
  /** User/password authentication. */
  user?: string;
  password?: string;
  /** TLS: files of the CA that signed the server's certificate, and the client's certificate and key. */
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/** Options of {@linkcode Bridge.start}. */
export interface BridgeOptions {
  /** The segment: a name (opened; see `create`) or an open Segment (the caller keeps it). */
  segment: string | Segment;
  /** With a name: create the segment with this size in bytes if it does not exist. */
  createSize?: number;
  nats: BridgeNatsOptions;
  /** Local objects to make reachable from other hosts (names, one subject token each). */
  exports?: readonly string[];
  /** Remote objects to make appear in this segment under the same names. */
  imports?: readonly string[];
  /** Subject prefix (default "wshm"): bridges see each other only under the same prefix. */
  prefix?: string;
  /** The longest a relayed channel call waits for the far side, ms (default 10000). */
  requestTimeoutMs?: number;
  /** Where the bridge reports what it does (default: nothing). */
  log?: (line: string) => void;
}

/** The servers as shown: credentials in a URL (`nats://user:pass@host`) are never shown or stored. */
function withoutCredentials(url: string): string {
  return url.replace(/\/\/[^@/]*@/, "//");
}

function checkNames(list: unknown, what: string): string[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) throw argumentError("type", `Invalid ${what} ${shown(list)}: a list of names`);
  return list.map((name) => checkBridgeName(name));
}

/** A running bridge. */
export class Bridge {
  readonly #segment: Segment;
  readonly #ownsSegment: boolean;
  readonly #prefix: string;
  readonly #servers: string[];
  readonly #abort = new AbortController();
  readonly #objects: BridgedObject[] = [];
  readonly #pendingImports = new Map<string, string>();
  readonly #log: (line: string) => void;
  readonly #role: Mutex;
  readonly #roleGuard: MutexGuard;
  readonly #status: Blackboard;
  readonly #runs: Promise<void>[] = [];
  readonly #ready: Promise<NatsConnection | null>;
  #nc: NatsConnection | null = null;
  #connection = "connecting";
  #reconnects = 0;
  #closed = false;
  #statusTimer: ReturnType<typeof setInterval> | undefined;
  #previous = new Map<string, { at: number; sent: number; received: number }>();
  readonly #resetGuard: Disposable;

  private constructor(
    options: BridgeOptions,
    segment: Segment,
    ownsSegment: boolean,
    role: Mutex,
    guard: MutexGuard,
  ) {
    this.#segment = segment;
    this.#ownsSegment = ownsSegment;
    this.#prefix = checkPrefix(options.prefix ?? "wshm");
    const servers = options.nats.servers;
    this.#servers = (Array.isArray(servers) ? servers : [servers]).map(withoutCredentials);
    this.#log = options.log ?? (() => {});
    this.#resetGuard = guardAbandonedSocketResets((line) => this.#log(line));
    this.#role = role;
    this.#roleGuard = guard;
    this.#status = segment.blackboard(BRIDGE_STATUS, { keys: [STATUS_KEY], maxValueSize: STATUS_MAX });
    let resolveReady!: (nc: NatsConnection | null) => void;
    this.#ready = new Promise((resolve) => (resolveReady = resolve));
    this.#abort.signal.addEventListener("abort", () => resolveReady(null), { once: true });
    this.#connect(options, resolveReady);
  }

  /**
   * Starts a bridge: takes the segment's bridge role (`Exists` if a live
   * bridge holds it), checks that every export exists here (`NotFound`),
   * and starts connecting to NATS in the background: the bridge serves its
   * local side at once, and local callers of an import get `Unavailable`
   * until the connection is up.
   */
  static async start(options: BridgeOptions): Promise<Bridge> {
    checkOptions(options, "Bridge.start()");
    if (typeof options.nats !== "object" || options.nats === null) {
      throw argumentError("type", "Bridge.start() needs nats: { servers }");
    }
    const servers = options.nats.servers;
    if (
      !(typeof servers === "string" ||
        (Array.isArray(servers) && servers.every((s) => typeof s === "string")))
    ) {
      throw argumentError("type", `Invalid nats.servers ${shown(servers)}: a URL or a list of URLs`);
    }
    const exports = checkNames(options.exports, "exports");
    const imports = checkNames(options.imports, "imports");
    checkPrefix(options.prefix ?? "wshm");
    const both = exports.find((name) => imports.includes(name));
    if (both !== undefined) {
      throw argumentError("range", `"${both}" is both exported and imported: a name goes one way`);
    }
    const timeout = options.requestTimeoutMs ?? 10_000;
    if (!Number.isSafeInteger(timeout) || timeout < 1 || timeout > 3_600_000) {
      throw argumentError("range", `Invalid requestTimeoutMs ${shown(timeout)}: 1 to 3600000`);
    }
    let segment: Segment;
    let owns = false;
    if (typeof options.segment === "string") {
      owns = true;
      try {
        segment = Segment.open(options.segment);
      } catch (error) {
        if (!(error instanceof WshmError && error.code === "NotFound" && options.createSize !== undefined)) {
          throw error;
        }
        segment = Segment.create(options.segment, { size: options.createSize });
      }
    } else if (options.segment instanceof Segment) {
      segment = options.segment;
    } else {
      throw argumentError("type", `Invalid segment ${shown(options.segment)}: a name or a Segment`);
    }
    let role: Mutex | undefined;
    try {
      role = segment.mutex(BRIDGE_ROLE);
      // tryLock() only looks at the lock word, so it would refuse forever the
      // role of a bridge that was killed; a short wait checks whether the
      // holder still lives, and takes a dead one's role over (OwnerDied).
      let guard: MutexGuard;
      try {
        guard = role.tryLock() ?? await role.lockAsync({ timeoutMs: ROLE_WAIT_MS });
      } catch (error) {
        if (!isCode(error, "Timeout")) throw error;
        throw new WshmError(
          "Exists",
          `Segment "${segment.name}" already has a bridge (process ${role.holder})`,
        );
      }
      // The role protects nothing but the status, which the new holder rewrites.
      const tookOver = guard.ownerDied;
      if (tookOver) guard.consistent();
      const bridge = new Bridge(options, segment, owns, role, guard);
      if (tookOver) options.log?.(`took the bridge role of ${segment.name} over from a bridge that died`);
      try {
        bridge.#begin(exports, imports, timeout);
      } catch (error) {
        await bridge.close();
        throw error;
      }
      return bridge;
    } catch (error) {
      if (owns) segment.close();
      throw error;
    }
  }

  #context(requestTimeoutMs: number): BridgeContext {
    return {
      segment: this.#segment,
      prefix: this.#prefix,
      connection: () => this.#nc,
      connected: () => this.#connection === "connected",
      ready: this.#ready,
      signal: this.#abort.signal,
      requestTimeoutMs,
      maxPayload: () => Math.min(this.#nc?.info?.max_payload ?? 1 << 20, 1 << 20),
      headers: () => natsHeaders(),
      log: (line) => this.#log(line),
    };
  }

  #begin(exports: string[], imports: string[], requestTimeoutMs: number): void {
    const ctx = this.#context(requestTimeoutMs);
    const present = new Map(this.#segment.objects().map((o) => [o.name, o.kind]));
    for (const name of exports) {
      const kind = present.get(name);
      if (kind === undefined) {
        throw new WshmError(
          "NotFound",
          `Cannot export "${name}": segment "${this.#segment.name}" has no object of that name`,
        );
      }
      let object: BridgedObject;
      let description: Description;
      if (kind === "channel") {
        const channel = this.#segment.channel(name, { create: false });
        description = { kind, capacity: channel.capacity, clients: channel.clients };
        object = new ChannelExport(ctx, name, channel);
      } else if (kind === "topic") {
        const topic = this.#segment.topic(name, { create: false });
        description = describeTopic(topic);
        object = new TopicExport(ctx, name, topic);
      } else if (kind === "queue") {
        const queue = this.#segment.queue(name, { create: false });
        description = { kind, slotSize: queue.slotSize, slots: queue.slots };
        object = new QueueExport(ctx, name, queue);
      } else {
        throw new WshmError(
          "KindMismatch",
          `Cannot export "${name}": a ${kind}; channels, topics and queues bridge`,
        );
      }
      this.#add(object);
      this.#answerDescribe(name, description);
    }
    for (const name of imports) {
      const kind = present.get(name);
      if (kind !== undefined) {
        // It exists here (a bridge ran before, or a local party created it): use it as it is.
        this.#add(this.#importOf(ctx, name, kind, null));
      } else {
        this.#pendingImports.set(name, "waiting: for a bridge that exports it");
        this.#runs.push(this.#importWhenDescribed(ctx, name));
      }
    }
    this.#writeStatus();
    this.#statusTimer = setInterval(() => this.#writeStatus(), 1000);
  }

  #add(object: BridgedObject): void {
    this.#objects.push(object);
    const signal = this.#abort.signal;
    this.#runs.push((async () => {
      // A failure that escapes an object's own handling: reported, then the object runs again.
      while (!signal.aborted) {
        try {
          await object.run();
          return;
        } catch (error) {
          if (signal.aborted) return;
          this.#log(`${object.name}: ${failedState(error)}`);
          await pause(1000, signal);
        }
      }
    })());
  }

  #importOf(ctx: BridgeContext, name: string, kind: string, described: Description | null): BridgedObject {
    if (described !== null && described.kind !== kind) {
      throw new WshmError(
        "KindMismatch",
        `Cannot import "${name}": it is a ${kind} here and a ${described.kind} remotely`,
      );
    }
    if (kind === "channel") {
      return new ChannelImport(ctx, name, this.#segment.channel(name, { create: false }));
    }
    if (kind === "queue") return new QueueImport(ctx, name, this.#segment.queue(name, { create: false }));
    if (kind === "topic") {
      const topic = this.#segment.topic(name, { create: false });
      const d = described?.kind === "topic"
        ? described
        : describeTopic(topic) as Extract<Description, { kind: "topic" }>;
      return new TopicImport(ctx, name, topic, d);
    }
    throw new WshmError(
      "KindMismatch",
      `Cannot import "${name}": it is a ${kind} here; channels, topics and queues bridge`,
    );
  }

  /** Asks the exporters for the object until one answers, then creates it here as described and runs it. */
  async #importWhenDescribed(ctx: BridgeContext, name: string): Promise<void> {
    const signal = this.#abort.signal;
    const nc = await this.#ready;
    if (nc === null) return;
    const subject = subjectsOf(this.#prefix, name).describe;
    while (!signal.aborted) {
      let described: Description;
      try {
        const reply = await nc.request(subject, "", { timeout: 2000 });
        described = parseDescription(reply.data);
      } catch (error) {
        const e = error as { isNoResponders?: () => boolean };
        const none = typeof e?.isNoResponders === "function" && e.isNoResponders();
        this.#pendingImports.set(name, none ? "waiting: for a bridge that exports it" : failedState(error));
        await pause(500, signal);
        continue;
      }
      if (signal.aborted) return;
      try {
        this.#createLocal(name, described);
        const kind = this.#segment.objects().find((o) => o.name === name)?.kind ?? described.kind;
        this.#pendingImports.delete(name);
        this.#add(this.#importOf(ctx, name, kind, described));
        this.#writeStatus();
      } catch (error) {
        this.#pendingImports.set(name, failedState(error));
        this.#log(`import ${name}: ${failedState(error)}`);
      }
      return;
    }
  }

  #createLocal(name: string, d: Description): void {
    const s = this.#segment;
    if (d.kind === "channel") s.channel(name, { capacity: d.capacity, clients: Math.max(d.clients, 16) });
    else if (d.kind === "queue") s.queue(name, { slotSize: d.slotSize, slots: d.slots });
    else {
      s.topic(name, {
        maxMessage: d.maxMessage,
        depth: d.depth,
        subscribers: d.subscribers,
        history: d.history,
        policy: d.policy,
      });
    }
  }

  #answerDescribe(name: string, description: Description): void {
    const body = JSON.stringify(description);
    const subject = subjectsOf(this.#prefix, name);
    this.#ready.then((nc) => {
      if (nc === null || nc.isClosed()) return;
      try {
        nc.subscribe(subject.describe, {
          queue: subject.group,
          callback: (_e, msg) => {
            msg.respond(body);
          },
        });
      } catch (error) {
        this.#log(`export ${name}: cannot answer descriptions: ${failedState(error)}`);
      }
    });
  }

  #connect(options: BridgeOptions, resolveReady: (nc: NatsConnection) => void): void {
    const signal = this.#abort.signal;
    const n = options.nats;
    const run = async () => {
      while (!signal.aborted) {
        try {
          const nc = await connect({
            servers: n.servers,
            token: n.token,
            user: n.user,
            pass: n.password,
            tls: n.tls === undefined ? undefined : { ...n.tls },
            name: `wshm-bridge ${this.#segment.name} (pid ${process.pid})`,
            maxReconnectAttempts: -1,
            reconnectTimeWait: 250,
            reconnectJitter: 100,
            pingInterval: 2000,
            maxPingOut: 2,
            timeout: 2000,
            // Else every request and every timed subscription builds an Error (stack trace
            // included) up front, just in case it fails: about a quarter of the NATS client's
            // CPU time per request (node --cpu-prof of a request loop).
            noAsyncTraces: true,
          });
          if (signal.aborted) {
            await nc.close();
            return;
          }
          this.#nc = nc;
          this.#connection = "connected";
          this.#log(`connected to ${nc.getServer()}`);
          this.#writeStatus();
          resolveReady(nc);
          this.#watch(nc);
          return;
        } catch (error) {
          this.#connection = failedState(error).replace(/^failed: /, "connecting: ");
          await pause(500, signal);
        }
      }
    };
    this.#runs.push(run());
  }

  async #watch(nc: NatsConnection): Promise<void> {
    try {
      await this.#watchStatus(nc);
    } catch (error) {
      // The connection's status stream failed: the connection state stays as last seen.
      this.#log(`NATS status: ${failedState(error)}`);
    }
  }

  async #watchStatus(nc: NatsConnection): Promise<void> {
    for await (const status of nc.status()) {
      if (status.type === "disconnect") {
        this.#connection = "reconnecting";
        this.#log(`disconnected from NATS; reconnecting`);
        this.#writeStatus();
      } else if (status.type === "reconnect") {
        this.#connection = "connected";
        this.#reconnects++;
        this.#log(`reconnected to ${status.server}`);
        this.#writeStatus();
      } else if (status.type === "error") {
        this.#log(`NATS: ${status.error.message}`);
      }
    }
  }

  /** The bridge's connection and every bridged object's counters (stale as soon as read). */
  stats(): BridgeStats {
    const objects = this.#objects.map((o) => o.stats());
    for (const [name, state] of this.#pendingImports) {
      // The kind is not known until an exporter describes it.
      objects.push({
        name,
        kind: "unknown",
        direction: "import",
        state,
        sent: 0,
        received: 0,
        natsSent: 0,
        natsReceived: 0,
        missed: 0,
        malformed: 0,
        errors: 0,
      });
    }
    return {
      segment: this.#segment.name,
      pid: process.pid,
      prefix: this.#prefix,
      servers: this.#servers,
      connection: this.#closed ? "closed" : this.#connection,
      reconnects: this.#reconnects,
      objects,
    };
  }

  #writeStatus(): void {
    if (this.#segment.closed) return;
    const stats = this.stats();
    const now = Date.now();
    const objects = stats.objects.map((o) => {
      const key = `${o.direction} ${o.name}`;
      const before = this.#previous.get(key);
      this.#previous.set(key, { at: now, sent: o.sent, received: o.received });
      const seconds = before === undefined ? 0 : (now - before.at) / 1000;
      return {
        ...o,
        sentPerSecond: seconds > 0 ? Math.round((o.sent - before!.sent) / seconds) : 0,
        receivedPerSecond: seconds > 0 ? Math.round((o.received - before!.received) / seconds) : 0,
      };
    });
    let text = JSON.stringify({ ...stats, objects, updatedAt: now });
    if (text.length > STATUS_MAX) {
      text = JSON.stringify({ ...stats, objects: [], truncated: true, updatedAt: now });
    }
    try {
      this.#status.write(STATUS_KEY, text, { timeoutMs: 100 });
    } catch (error) {
      this.#log(`cannot publish the bridge's status: ${failedState(error)}`);
    }
  }

  /** Stops bridging: gives up every local role, closes the NATS connection, gives up the bridge role. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort();
    if (this.#statusTimer !== undefined) clearInterval(this.#statusTimer);
    for (const object of this.#objects) {
      try {
        object.close();
      } catch (error) {
        this.#log(`${object.name}: ${failedState(error)}`);
      }
    }
    const nc = this.#nc;
    this.#nc = null;
    if (nc !== null) {
      try {
        await nc.close();
      } catch {
        // Already closed.
      }
    }
    await Promise.allSettled(this.#runs);
    this.#writeStatus();
    try {
      this.#roleGuard.unlock();
    } catch {
      // The segment was closed under us.
    }
    if (this.#ownsSegment) this.#segment.close();
    this.#resetGuard[Symbol.dispose]();
    void this.#role;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
