/**
 * A wait set: wait for the first of several objects to become ready (a
 * ring, queue or topic subscriber readable, an event notified), in one
 * segment or several, sync or async, with one futex_waitv(2) for the whole
 * set (no thread, and no off-thread wait, per object).
 *
 * Each member is polled by a readiness step of the core (ringPollStep,
 * queuePollStep, topicPollStep, eventWaitStep: the step contract of
 * wasm/base/waiting.ts) that takes nothing; a parked set is registered as a
 * sleeper of every member, so each member's ordinary wake-up reaches it.
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError, WshmError } from "./errors.ts";
import { checkCallOptions, shown } from "./names.ts";
import { statusError } from "./status.ts";
import { FUTEX_WAITV_MAX, FutexVector } from "./platform/mod.ts";
import { timeoutOption, type WaitMode } from "./wait.ts";
import { Ring } from "./ring.ts";
import { Queue } from "./queue.ts";
import { Event } from "./event.ts";
import { TopicSubscriber } from "./topic_subscriber.ts";
import { Blackboard } from "./blackboard.ts";

/** What a wait set can wait on. */
export type WaitSource = Ring | Queue | TopicSubscriber | Event | Blackboard;

/** How a member is added: an event's or a blackboard key's starting point, a blackboard's key. */
export interface WaitSetMemberOptions {
  /** Event: ready once its sequence differs from this (default: its sequence now). Blackboard: the version. */
  since?: number;
  /** Blackboard: the key to watch (null: any key; default null). */
  key?: string | null;
}

export interface WaitSetOptions {
  /** Give up with a `Timeout` error after this many milliseconds (default: no limit). */
  timeoutMs?: number;
  /** "adaptive" (default): spin about 50 µs, then park; "spin": never park; "park": park at once. */
  wait?: WaitMode;
}

export interface WaitSetAsyncOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** How long one park lasts before every member is looked at again. */
let SLICE_MS = 100;

/**
 * @internal Sets how long one park lasts (tests make it long, so that a set
 * that is not woken by its members' ordinary wake-ups times out instead of
 * being rescued by its next look). Returns the previous value.
 */
export function setWaitSetSliceMs(ms: number): number {
  const previous = SLICE_MS;
  SLICE_MS = ms;
  return previous;
}
/** How long an adaptive wait spins before it parks. */
const ADAPTIVE_SPIN_MS = 0.05;
/** How long the async wait sleeps between looks where the runtime has no off-thread futex_waitv (Bun). */
const POLL_MS = 1;

interface Member {
  readonly source: WaitSource;
  /** A blackboard's key (null: any key); undefined for other kinds. */
  readonly key?: string | null;
  readonly map: Mapping;
  /** The core's readiness step for this member: >= 0 ready, -MUST_WAIT not yet. */
  readonly step: (flags: number) => number;
  readonly cancel: () => void;
  /** After a ready report: start watching for the next one (an event's new sequence). */
  readonly rearm: () => void;
  registered: boolean;
}

function memberOf(source: WaitSource, options: WaitSetMemberOptions): Member {
  const since = options.since;
  if (source instanceof Blackboard) {
    const map = source.segment, handle = source.handle, core = map.core, k = map.constants;
    const key = options.key ?? null;
    let index: number = k.BLACKBOARD_ANY_KEY;
    if (key !== null) {
      index = source.keys.indexOf(key);
      if (index < 0) {
        throw argumentError("range", `Unknown key "${key}" of blackboard "${source.name}"`, "NotFound");
      }
    }
    const current = () => (key === null ? source.generation : source.version(key)) % 2 ** 32;
    let seen = since === undefined ? current() : since % 2 ** 32;
    return {
      source,
      key,
      map,
      step: (flags) => core.blackboardWaitStep(handle, index, seen, flags),
      cancel: () => core.blackboardWaitCancel(handle, index),
      rearm: () => (seen = current()),
      registered: false,
    };
  }
  if (source instanceof TopicSubscriber) {
    const { map, handle, index } = source.pollTarget();
    const core = map.core;
    return {
      source,
      map,
      step: (flags) => core.topicPollStep(handle, index, 0, flags),
      cancel: () => core.topicCancelWait(handle, 1),
      rearm: () => {},
      registered: false,
    };
  }
  if (source instanceof Ring) {
    const map = source.segment, handle = source.handle, core = map.core, k = map.constants;
    return {
      source,
      map,
      step: (flags) => core.ringPollStep(handle, 0, 0, flags),
      cancel: () => core.ringCancelWait(handle, k.ROLE_CONSUMER),
      rearm: () => {},
      registered: false,
    };
  }
  if (source instanceof Queue) {
    const map = source.segment, handle = source.handle, core = map.core;
    return {
      source,
      map,
      step: (flags) => core.queuePollStep(handle, 0, 0, flags),
      cancel: () => core.queueCancelWait(handle, 0),
      rearm: () => {},
      registered: false,
    };
  }
  if (source instanceof Event) {
    const map = source.segment, handle = source.handle, core = map.core;
    let seen = since ?? source.sequence;
    return {
      source,
      map,
      step: (flags) => core.eventWaitStep(handle, seen, 0, flags),
      cancel: () => core.eventWaitCancel(handle, seen),
      rearm: () => (seen = core.eventSequence(handle)),
      registered: false,
    };
  }
  throw argumentError(
    "type",
    `Invalid wait set member ${shown(source)}: a Ring, Queue, TopicSubscriber, Event or Blackboard`,
  );
}

/**
 * Waits for the first of several objects to become ready. A ring or queue
 * is ready when a read would find a message (a queue with other consumers:
 * they may take it first, so treat ready as "try now"), a topic subscriber
 * when it has a message (or was lapped), an event when it was notified since
 * it was added (or since the set last reported it).
 *
 * @example
 * ```ts
 * import { Segment, WaitSet } from "wshm";
 * const segment = Segment.create("/waitset-example", { size: 1 << 20 });
 * const jobs = segment.queue("jobs");
 * const stop = segment.event("stop");
 * const set = new WaitSet().add(jobs).add(stop);
 * jobs.send("work");
 * const ready = set.wait({ timeoutMs: 100 });
 * console.log(ready === jobs); // true
 * segment.unlink();
 * segment.close();
 * ```
 */
export class WaitSet {
  readonly #members: Member[] = [];
  #vector: FutexVector | undefined;
  /** Where the next look starts, so that one busy member cannot hide the others. */
  #next = 0;

  /**
   * Adds `source`. An event is ready once its sequence differs from `since`
   * (default: its sequence now); a blackboard once `key` (null: any key) has a
   * version other than `since` (default: now); add a blackboard once per key.
   */
  add(source: WaitSource, options: WaitSetMemberOptions = {}): this {
    const key = source instanceof Blackboard ? options.key ?? null : undefined;
    if (this.#members.some((m) => m.source === source && m.key === key)) return this;
    if (this.#members.length >= FUTEX_WAITV_MAX) {
      throw argumentError(
        "range",
        `Cannot add to a wait set of ${FUTEX_WAITV_MAX} members: futex_waitv takes no more`,
      );
    }
    this.#members.push(memberOf(source, options));
    return this;
  }

  /** Removes `source` (a blackboard: every key of it); true if it was a member. */
  remove(source: WaitSource): boolean {
    const before = this.#members.length;
    for (let i = this.#members.length - 1; i >= 0; i--) {
      if (this.#members[i].source === source) this.#members.splice(i, 1);
    }
    return this.#members.length < before;
  }

  /** The members, in the order they were added. */
  get sources(): WaitSource[] {
    return this.#members.map((m) => m.source);
  }

  /** Looks at every member once with `flags`; the first ready one (all registrations withdrawn), or null. */
  #look(flags: number, registering: boolean): WaitSource | null {
    const members = this.#members;
    const n = members.length;
    let ready: Member | undefined;
    for (let j = 0; j < n; j++) {
      const m = members[(this.#next + j) % n];
      m.map.assertOpen();
      const k = m.map.constants;
      const f = flags | (m.registered ? k.STEP_REGISTERED : 0);
      const r = m.step(ready === undefined ? f : f & ~k.STEP_PARK);
      m.registered = registering && ready === undefined && r === -k.MUST_WAIT;
      if (r >= 0) {
        if (ready === undefined) ready = m;
      } else if (r !== -k.MUST_WAIT) {
        this.#withdraw();
        throw statusError(-r, `Cannot wait on ${describe(m.source)}`);
      }
      if (ready === undefined && this.#vector !== undefined) {
        this.#vector.set(j, m.map.base + m.map.core.waitAddress(), m.map.core.waitValue());
      }
    }
    if (ready === undefined) return null;
    this.#withdraw();
    this.#next = (members.indexOf(ready) + 1) % n;
    ready.rearm();
    return ready.source;
  }

  #withdraw(): void {
    for (const m of this.#members) {
      if (m.registered) m.cancel();
      m.registered = false;
    }
  }

  #checkMembers(): void {
    if (this.#members.length === 0) throw argumentError("range", "Cannot wait on an empty wait set");
  }

  #prepareVector(): FutexVector {
    const posix = this.#members[0].map.posix;
    this.#vector ??= new FutexVector(posix);
    this.#vector.count = this.#members.length;
    return this.#vector;
  }

  #timeout(timeoutMs: number): never {
    throw new WshmError(
      "Timeout",
      `Cannot wait on a set of ${this.#members.length}: timed out after ${timeoutMs} ms`,
    );
  }

  /** The first member ready now, or null (never waits). */
  tryWait(): WaitSource | null {
    this.#checkMembers();
    return this.#look(0, false);
  }

  /** Waits for the first member to become ready, at most `timeoutMs` (then `Timeout`). */
  wait(options?: WaitSetOptions): WaitSource {
    checkCallOptions(options);
    this.#checkMembers();
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const mode = options?.wait ?? "adaptive";
    if (mode !== "adaptive" && mode !== "spin" && mode !== "park") {
      throw argumentError("range", `Invalid wait mode ${shown(mode)}: "adaptive", "spin" or "park"`);
    }
    const vector = this.#prepareVector();
    const start = performance.now();
    const deadline = timeoutMs < 0 ? Infinity : start + timeoutMs;
    let ready = this.#look(0, false);
    if (ready !== null) return ready;
    const spinUntil = mode === "spin"
      ? deadline
      : mode === "park"
      ? start
      : Math.min(deadline, start + ADAPTIVE_SPIN_MS);
    for (let now = start; now < spinUntil; now = performance.now()) {
      ready = this.#look(0, false);
      if (ready !== null) return ready;
    }
    const k = this.#members[0].map.constants;
    const posix = this.#members[0].map.posix;
    while (true) {
      ready = this.#look(k.STEP_PARK, true);
      if (ready !== null) return ready;
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        this.#withdraw();
        this.#timeout(timeoutMs);
      }
      posix.futexWaitv(vector, Math.min(remaining, SLICE_MS));
    }
  }

  /** Waits for the first member to become ready without blocking the event loop. */
  async waitAsync(options?: WaitSetAsyncOptions): Promise<WaitSource> {
    checkCallOptions(options);
    this.#checkMembers();
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const signal = options?.signal;
    const vector = this.#prepareVector();
    const deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
    let ready = this.#look(0, false);
    if (ready !== null) return ready;
    const k = this.#members[0].map.constants;
    const posix = this.#members[0].map.posix;
    const offThread = posix.futexWaitvAsyncAvailable;
    try {
      while (true) {
        if (signal?.aborted) throw signal.reason;
        ready = this.#look(offThread ? k.STEP_PARK : 0, offThread);
        if (ready !== null) return ready;
        const remaining = deadline - performance.now();
        if (remaining <= 0) this.#timeout(timeoutMs);
        if (offThread) await posix.futexWaitvAsync(vector, Math.min(remaining, SLICE_MS));
        else await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, POLL_MS)));
      }
    } finally {
      this.#withdraw();
    }
  }
}

function describe(source: WaitSource): string {
  if (source instanceof TopicSubscriber) return `a subscriber of topic "${source.topicName}"`;
  const kind = source instanceof Ring
    ? "ring"
    : source instanceof Queue
    ? "queue"
    : source instanceof Blackboard
    ? "blackboard"
    : "event";
  return `${kind} "${(source as { name: string }).name}"`;
}
