// What `inspect` and `ls` can say about each object in a segment, read through
// the core's inspection exports, each named here once (typed: a misspelt
// export fails the type check):
//   mutex, semaphore   dedicated exports (mutexHolder, semaphoreValue, ...);
//   ring, queue, channel   one `<kind>Info(handle, which)` export with
//                      `<KIND>_INFO_<FIELD>` constants: every field the core
//                      names is shown, so new fields need no CLI change;
//   rwlock, event      one export per field (`rwlockWriter(handle)`, ...).

import type { Segment } from "../ts/mod.ts";

/** One object's state as read now (stale as soon as read). */
export interface ObjectState {
  name: string;
  kind: string;
  offset: number;
  size: number;
  /** The core's handle for it (objectOpen), or -1 for the directory lock; < -1: a status (it failed validation). */
  handle: number;
  /** Processes recorded as holding it, or as parties of it (peers for gc). */
  pids?: number[];
  /** Short readable facts, in order: [["holder", "pid 1234"], ["waiters", "yes"]]. */
  facts: Array<[string, string]>;
  /** Numbers for --json and for rates between --watch refreshes. */
  values: Record<string, number | boolean | null>;
}

/** The name under which the directory's own lock is shown. */
export const DIRECTORY_LOCK = "(directory lock)";

// Fields whose value is a pid: they make the object's peers (for ls and gc).
const PID_FIELDS = new Set(["holder", "writer", "server", "producer", "consumer", "accessHolder", "owner"]);

/** Fields that only grow: `inspect --watch` shows their rate. */
export const COUNTERS = new Set([
  "served",
  "commits",
  "reads",
  "enqueued",
  "dequeued",
  "notifies",
  "published",
]);

type Core = Segment["core"];
type Constants = Segment["constants"];

// Per-field inspectors of the kinds that have one export per field, in display order.
const PROBED: Record<string, Array<[string, (core: Core, handle: number) => number | bigint]>> = {
  rwlock: [
    ["writer", (core, h) => core.rwlockWriter(h)],
    ["readers", (core, h) => core.rwlockReaders(h)],
    ["readerSlots", (core, h) => core.rwlockReaderSlots(h)],
  ],
  event: [
    ["sequence", (core, h) => core.eventSequence(h) >>> 0],
    ["sleepers", (core, h) => core.eventSleepers(h)],
    ["notifies", (core, h) => core.eventNotifies(h)],
  ],
};

// The kinds with one `<kind>Info(handle, which)` export.
const INFO: Record<string, (core: Core, handle: number, which: number) => number> = {
  ring: (core, h, which) => core.ringInfo(h, which),
  queue: (core, h, which) => core.queueInfo(h, which),
  channel: (core, h, which) => core.channelInfo(h, which),
};

/** The core's kind number of a kind name as `objects()` shows it. */
function kindNumber(k: Constants, kind: string): number {
  const numbers: Record<string, number> = {
    bytes: k.KIND_BYTES,
    mutex: k.KIND_MUTEX,
    semaphore: k.KIND_SEMAPHORE,
    rwlock: k.KIND_RWLOCK,
    event: k.KIND_EVENT,
    ring: k.KIND_RING,
    queue: k.KIND_QUEUE,
    channel: k.KIND_CHANNEL,
    topic: k.KIND_TOPIC,
    blackboard: k.KIND_BLACKBOARD,
  };
  return numbers[kind] ?? 0;
}

/** "ACCESS_HOLDER" -> "accessHolder". */
function camel(constant: string): string {
  return constant.toLowerCase().replace(/_([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

// How a field is labelled on screen when its constant's name is not a word
// a reader knows (--json keeps the field names).
const LABELS: Record<string, string> = {
  accessHolder: "client",
  state: "exchange",
  slotSize: "slot size",
  readerSlots: "reader slots",
};

// CHANNEL_INFO_STATE of a classic channel, as docs/ABI.md numbers them.
const EXCHANGE_STATES = ["idle", "requested", "serving", "responded", "server lost"];

function shownValue(state: ObjectState, field: string, value: number): string {
  if (PID_FIELDS.has(field)) return value > 0 ? `pid ${value}` : value < 0 ? "not recoverable" : "none";
  if (state.kind === "channel" && field === "state") return EXCHANGE_STATES[value] ?? `unknown (${value})`;
  return value.toLocaleString("en-US");
}

function record(state: ObjectState, field: string, raw: unknown): void {
  const value = typeof raw === "bigint" ? Number(raw) : raw;
  if (typeof value !== "number") return;
  state.values[field] = value;
  // A many-client channel has no single exchange: its client and state fields are always 0.
  const manyClients = state.kind === "channel" && typeof state.values.clients === "number" &&
    state.values.clients > 0;
  if (manyClients && (field === "accessHolder" || field === "state")) return;
  if (state.kind === "channel" && field === "clients") {
    state.facts.push(
      value > 0 ? ["client slots", value.toLocaleString("en-US")] : ["mode", "classic exchange"],
    );
    return;
  }
  // Attached clients are counted in many-client mode only.
  if (state.kind === "channel" && field === "attached" && !manyClients) return;
  state.facts.push([LABELS[field] ?? field, shownValue(state, field, value)]);
}

function mutexState(core: Core, state: ObjectState): void {
  showMutex(state, core.mutexHolder(state.handle), core.mutexHasWaiters(state.handle) !== 0);
}

function directoryLockState(core: Core, state: ObjectState): void {
  showMutex(state, core.directoryLockHolder(), core.directoryLockHasWaiters() !== 0);
}

function showMutex(state: ObjectState, holder: number, waiters: boolean): void {
  if (holder < 0) {
    state.facts.push(["state", "not recoverable"]);
    state.values.notRecoverable = true;
    state.values.holder = null;
    return;
  }
  state.values.holder = holder;
  state.facts.push(["holder", holder === 0 ? "free" : `pid ${holder}`]);
  state.values.waiters = waiters;
  if (waiters) state.facts.push(["waiters", "yes"]);
}

function semaphoreState(core: Core, state: ObjectState): void {
  const value: number = core.semaphoreValue(state.handle);
  const maximum: number = core.semaphoreMaximum(state.handle);
  const sleepers: number = core.semaphoreSleepers(state.handle);
  Object.assign(state.values, { value, maximum, sleepers });
  state.facts.push(["value", `${value}/${maximum}`], ["sleepers", String(sleepers)]);
}

function infoState(core: Core, constants: Constants, state: ObjectState): boolean {
  const info = INFO[state.kind];
  if (info === undefined) return false;
  const prefix = `${state.kind.toUpperCase()}_INFO_`;
  const fields = Object.entries(constants)
    .filter(([name]) => name.startsWith(prefix))
    .sort((a, b) => a[1] - b[1]);
  for (const [name, which] of fields) {
    record(state, camel(name.slice(prefix.length)), info(core, state.handle, which));
  }
  const { enqueued, dequeued } = state.values;
  if (typeof enqueued === "number" && typeof dequeued === "number") {
    record(state, "depth", enqueued - dequeued);
  }
  return true;
}

/**
 * A topic: its geometry and policy, the publisher, messages published (a
 * counter: --watch shows the rate) and one line per attached subscriber
 * with its lag (messages published and not yet released by it) and what it
 * missed. Subscriber numbers are also in values as `subscriber<i>Lag` etc.
 */
function topicState(core: Core, k: Constants, state: ObjectState): void {
  const info = (which: number, index = 0) => core.topicInfo(state.handle, which, index);
  const publisher = info(k.TOPIC_INFO_PUBLISHER);
  const published = info(k.TOPIC_INFO_HEAD);
  const subscribers = info(k.TOPIC_INFO_SUBSCRIBERS);
  const policy = info(k.TOPIC_INFO_POLICY) === k.TOPIC_POLICY_OVERWRITE ? "overwrite" : "block";
  Object.assign(state.values, {
    maxMessage: info(k.TOPIC_INFO_MAX_MESSAGE),
    depth: info(k.TOPIC_INFO_DEPTH),
    subscribers,
    history: info(k.TOPIC_INFO_HISTORY),
    publisher,
    published,
  });
  state.facts.push(
    ["publisher", publisher > 0 ? `pid ${publisher}` : "none"],
    ["published", published.toLocaleString("en-US")],
    ["policy", policy],
    ["depth", `${state.values.depth} messages of up to ${state.values.maxMessage} bytes`],
  );
  if (publisher > 0) (state.pids ??= []).push(publisher);
  let attached = 0;
  for (let i = 0; i < subscribers; i++) {
    const pid = info(k.TOPIC_INFO_SUBSCRIBER_PID, i);
    if (pid === 0) continue;
    attached++;
    const cursor = info(k.TOPIC_INFO_SUBSCRIBER_CURSOR, i);
    const lag = cursor < 0 ? 0 : Math.max(0, published - cursor);
    const missed = info(k.TOPIC_INFO_SUBSCRIBER_MISSED, i);
    Object.assign(state.values, {
      [`subscriber${i}Pid`]: pid,
      [`subscriber${i}Lag`]: lag,
      [`subscriber${i}Missed`]: missed,
    });
    state.facts.push([
      `subscriber ${i}`,
      `pid ${pid}, lag ${lag.toLocaleString("en-US")}, missed ${missed.toLocaleString("en-US")}`,
    ]);
    if (!state.pids?.includes(pid)) (state.pids ??= []).push(pid);
  }
  state.values.attached = attached;
  state.facts.push(["subscribers", `${attached} of ${subscribers}`]);
}

const keyNames = new TextDecoder();

/** A blackboard: its writer, generation, and every key with its version ("mode v3"). */
function blackboardState(segment: Segment, state: ObjectState): void {
  const core = segment.core;
  const k = segment.constants;
  record(state, "writer", Math.max(0, core.blackboardWriter(state.handle)));
  record(state, "generation", core.blackboardInfo(state.handle, k.BLACKBOARD_INFO_GENERATION));
  const keys: string[] = [];
  const scratch = core.blackboardKeyScratch.value;
  for (let key = 0; key < core.blackboardInfo(state.handle, k.BLACKBOARD_INFO_KEYS); key++) {
    const length = core.blackboardKeyName(state.handle, key);
    const version = core.blackboardVersion(state.handle, key);
    const name = length < 0
      ? `#${key}`
      : keyNames.decode(new Uint8Array(segment.memory.buffer).slice(scratch, scratch + length));
    state.values[`version:${name}`] = version;
    keys.push(version < 0 ? `${name} corrupt` : `${name} v${version}`);
  }
  state.facts.push(["keys", keys.join(", ")]);
}

function probedState(
  core: Core,
  state: ObjectState,
  fields: Array<[string, (core: Core, h: number) => number | bigint]>,
): void {
  for (const [field, read] of fields) record(state, field, read(core, state.handle));
}

/** The state of every object in the directory, the directory lock first. */
export function describeObjects(segment: Segment): ObjectState[] {
  const core = segment.core;
  const k = segment.constants;
  const lock: ObjectState = {
    name: DIRECTORY_LOCK,
    kind: "mutex",
    offset: k.HEADER_DIR_LOCK,
    size: 0,
    handle: -1,
    facts: [],
    values: {},
  };
  const states = [lock];
  for (const { index, ...object } of segment.objects()) {
    const handle: number = core.objectOpen(index, kindNumber(k, object.kind));
    states.push({ ...object, handle, facts: [], values: {} });
  }
  for (const state of states) {
    if (state === lock) directoryLockState(core, state);
    else if (state.handle < 0) state.facts.push(["state", "corrupt (its entry or object fails validation)"]);
    else if (state.kind === "mutex") mutexState(core, state);
    else if (state.kind === "semaphore") semaphoreState(core, state);
    else if (state.kind === "topic") topicState(core, k, state);
    else if (state.kind === "blackboard") blackboardState(segment, state);
    else if (!infoState(core, k, state) && PROBED[state.kind]) probedState(core, state, PROBED[state.kind]);
    for (const field of PID_FIELDS) {
      const pid = state.values[field];
      if (typeof pid === "number" && pid > 0 && !state.pids?.includes(pid)) (state.pids ??= []).push(pid);
    }
  }
  return states;
}
