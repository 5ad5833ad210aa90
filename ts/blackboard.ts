/**
 * A blackboard in a segment: the latest value of each of a fixed set of
 * keys, written by any process and read by any number of processes without
 * locks (the protocol is in wasm/blackboard/layout.ts).
 *
 * @module
 */

import type { Mapping } from "./mapping.ts";
import { argumentError, WshmError } from "./errors.ts";
import { statusError } from "./status.ts";
import { type Message, messageLength, writeMessage } from "./codec.ts";
import { awaitStep, spinsFor, timeoutOption, type WaitMode } from "./wait.ts";
import { checkCallOptions, checkInteger, shown } from "./names.ts";
import {
  type BlackboardOptions,
  type BlackboardReadOptions,
  BlackboardValue,
  type BlackboardWaitOptions,
} from "./blackboard_value.ts";

export { BlackboardValue } from "./blackboard_value.ts";
export type { BlackboardOptions, BlackboardReadOptions, BlackboardWaitOptions } from "./blackboard_value.ts";

const DEFAULT_MAX_VALUE = 256;
const DEFAULT_READ_TIMEOUT_MS = 1000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a write batch carries: key -> value, as an object or as [key, value] pairs. */
export type BlackboardEntries = Record<string, Message> | Iterable<readonly [string, Message]>;

/** The key names, checked and packed as the core's key scratch wants them (a length byte, the bytes). */
function packKeys(keys: unknown, nameMax: number, keysMax: number): { count: number; packed: Uint8Array } {
  if (!Array.isArray(keys)) {
    throw argumentError("type", `Invalid keys ${shown(keys)}: pass an array of strings`);
  }
  if (keys.length < 1 || keys.length > keysMax) {
    throw argumentError("range", `Invalid keys: a blackboard has 1 to ${keysMax} keys, not ${keys.length}`);
  }
  const parts: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    if (typeof key !== "string") throw argumentError("type", `Invalid key ${shown(key)}: keys are strings`);
    const bytes = encoder.encode(key);
    if (bytes.length < 1 || bytes.length > nameMax) {
      throw argumentError("range", `Invalid key "${key}": a key is 1 to ${nameMax} bytes of UTF-8`);
    }
    if (seen.has(key)) throw argumentError("range", `Invalid keys: "${key}" is given twice`);
    seen.add(key);
    parts.push(Uint8Array.of(bytes.length), bytes);
  }
  const packed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    packed.set(p, at);
    at += p.length;
  }
  return { count: keys.length, packed };
}

/**
 * Shared latest state by key. `write()` and `writeMany()` (one atomic batch
 * of several keys) take the write claim, which serialises writers (any
 * process may write; a writer that dies holding it is taken over); reads
 * take no lock and never make a writer wait: `read()` one key, `snapshot()`
 * several keys as they were at one instant. A value is never seen torn,
 * not even if its writer is killed mid-update. `wait()`/`waitAsync()`
 * sleep until a key's version moves on.
 *
 * @example
 * ```ts
 * import { Segment } from "./mod.ts";
 * using segment = Segment.create("/bb-example", { size: 1 << 20 });
 * const board = segment.blackboard("robot", { keys: ["pose", "mode"], maxValueSize: 128 });
 * board.writeMany({ pose: JSON.stringify([1, 2]), mode: "auto" });
 * const { pose, mode } = board.snapshot(["pose", "mode"]);
 * console.log(pose.json(), mode.text()); // [1, 2] "auto"
 * segment.unlink();
 * ```
 */
export class Blackboard {
  /** @internal The mapping the object lives in. */
  readonly segment: Mapping;
  readonly name: string;
  /** @internal The core's handle of the object (docs/ABI.md). */
  readonly handle: number;
  /** The keys, in creation order. */
  readonly keys: readonly string[];
  /** The largest value in bytes. */
  readonly maxValueSize: number;
  readonly #index = new Map<string, number>();
  readonly #mode: WaitMode;
  readonly #bytes: Uint8Array;
  readonly #scratch: DataView;
  readonly #words: Int32Array;

  /** @internal Use the Segment accessor (`segment.blackboard(name, options)`). */
  constructor(segment: Mapping, name: string, handle: number, wait: WaitMode = "adaptive") {
    this.segment = segment;
    this.name = name;
    this.handle = handle;
    this.#mode = wait;
    const core = segment.core;
    const k = segment.constants;
    this.#bytes = new Uint8Array(segment.memory.buffer);
    this.#words = new Int32Array(segment.memory.buffer);
    this.#scratch = new DataView(segment.memory.buffer, core.blackboardScratch.value, 24);
    const count = core.blackboardInfo(handle, k.BLACKBOARD_INFO_KEYS);
    this.maxValueSize = core.blackboardInfo(handle, k.BLACKBOARD_INFO_MAX_VALUE);
    if (count < 0 || this.maxValueSize < 0) throw statusError(-k.CORRUPT, this.#what("open"));
    const names: string[] = [];
    const scratch = core.blackboardKeyScratch.value;
    for (let key = 0; key < count; key++) {
      const length = core.blackboardKeyName(handle, key);
      if (length < 0) throw statusError(length, this.#what("open"));
      // Copied out of shared memory: a TextDecoder does not read a SharedArrayBuffer view.
      names.push(decoder.decode(this.#bytes.slice(scratch, scratch + length)));
      this.#index.set(names[key], key);
    }
    this.keys = Object.freeze(names);
  }

  /** @internal Opens (or creates) the blackboard `name` of `map`: Segment.blackboard(). */
  static open(map: Mapping, name: string, options: BlackboardOptions = {}): Blackboard {
    map.checkAccess(name, options, "blackboard", options?.wait ?? "adaptive");
    return map.cached(`blackboard:${name}`, () => {
      const k = map.constants;
      let p0 = 0, p1 = 0, p2 = 0;
      if (options.keys !== undefined) {
        const { count, packed } = packKeys(options.keys, k.BLACKBOARD_KEY_NAME_MAX, k.BLACKBOARD_MAX_KEYS);
        const maxValue = checkInteger(
          options.maxValueSize ?? DEFAULT_MAX_VALUE,
          "maxValueSize",
          1,
          k.BLACKBOARD_MAX_VALUE,
        );
        new Uint8Array(map.memory.buffer, map.core.blackboardKeyScratch.value, packed.length).set(packed);
        [p0, p1, p2] = [count, maxValue, packed.length];
      }
      const create = options.keys !== undefined && (options.create ?? true);
      try {
        const found = map.findOrCreate(k.KIND_BLACKBOARD, name, { ...options, create }, p0, p1, p2);
        return new Blackboard(map, name, found.handle, options.wait ?? "adaptive");
      } catch (error) {
        if (
          error instanceof WshmError && error.code === "NotFound" && options.keys === undefined &&
          options.create !== false
        ) {
          throw new WshmError(
            "NotFound",
            `Cannot open blackboard "${name}" in segment "${map.name}": it does not exist, and creating it needs { keys }`,
          );
        }
        throw error;
      }
    });
  }

  #what(action: string, key?: string): string {
    return `Cannot ${action} ${key === undefined ? "" : `key "${key}" of `}blackboard "${this.name}"`;
  }

  #keyIndex(key: unknown): number {
    if (typeof key !== "string") throw argumentError("type", `Invalid key ${shown(key)}: keys are strings`);
    const index = this.#index.get(key);
    if (index === undefined) {
      throw argumentError(
        "range",
        `Unknown key "${key}" of blackboard "${this.name}": its keys are ${
          this.keys.map((n) => `"${n}"`).join(", ")
        }`,
        "NotFound",
      );
    }
    return index;
  }

  #spins(options: BlackboardWaitOptions | undefined): number {
    return spinsFor(this.segment.constants, options?.wait ?? this.#mode);
  }

  /** The count of committed write batches so far (its low 32 bits are what `wait(null, ...)` compares). */
  get generation(): number {
    const g = this.segment.core.blackboardGeneration(this.handle);
    if (g < 0) throw statusError(g, this.#what("read"));
    return g;
  }

  /** `key`'s committed version now (0: never written). */
  version(key: string): number {
    const v = this.segment.core.blackboardVersion(this.handle, this.#keyIndex(key));
    if (v < 0) throw statusError(v, this.#what("read", key));
    return v;
  }

  /** The pid of the process holding the write claim now, 0 if none (for inspection). */
  get writer(): number {
    return Math.max(0, this.segment.core.blackboardWriter(this.handle));
  }

  /**
   * The latest value of `key`, never torn. Takes no lock; retries (for at
   * most `timeoutMs`) only while a writer rewrites it during the copy.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/bb-read", { size: 1 << 20 });
   * const board = segment.blackboard("b", { keys: ["k"] });
   * board.write("k", "v");
   * console.log(board.read("k").text()); // "v"
   * segment.unlink();
   * ```
   */
  read(key: string, options?: BlackboardReadOptions): BlackboardValue {
    checkCallOptions(options);
    return this.#readAt([this.#keyIndex(key)], options, this.#what("read", key))[0];
  }

  /**
   * The values of `keys` (default: all) as they all were at one instant:
   * a batch that wrote several of them is seen whole or not at all.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/bb-snapshot", { size: 1 << 20 });
   * const board = segment.blackboard("b", { keys: ["x", "y"] });
   * board.writeMany({ x: "1", y: "1" });
   * const { x, y } = board.snapshot();
   * console.log(x.text() === y.text()); // true
   * segment.unlink();
   * ```
   */
  snapshot(
    keys: readonly string[] = this.keys,
    options?: BlackboardReadOptions,
  ): Record<string, BlackboardValue> {
    checkCallOptions(options);
    if (!Array.isArray(keys)) {
      throw argumentError("type", `Invalid keys ${shown(keys)}: pass an array of key names`);
    }
    const values = this.#readAt(
      keys.map((key) => this.#keyIndex(key)),
      options,
      this.#what("read a snapshot of"),
    );
    const result: Record<string, BlackboardValue> = {};
    for (const value of values) result[value.key] = value;
    return result;
  }

  /** The versioned read of keys `indices` at one generation (wasm/blackboard/read.ts). */
  #readAt(indices: number[], options: BlackboardReadOptions | undefined, what: string): BlackboardValue[] {
    const core = this.segment.core;
    const k = this.segment.constants;
    const mustWait = -k.MUST_WAIT;
    const timeoutMs = timeoutOption(options?.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS);
    // The clock is read only once a read has to retry: most reads never do.
    let deadline = NaN;
    let unlocated = 0;
    let unlocatedAt = -1;
    for (let attempt = 0;; attempt++) {
      if (attempt > 0 && (attempt & 63) === 0) this.segment.assertOpen();
      const generation = core.blackboardGeneration(this.handle);
      if (generation < 0) throw statusError(generation, what);
      const taken: Array<
        { index: number; which: number; stamp: number; version: number; bytes: Uint8Array }
      > = [];
      let located = true;
      for (const index of indices) {
        const at = core.blackboardLocate(this.handle, index, generation);
        if (at === mustWait) {
          located = false;
          break;
        }
        if (at < 0) throw statusError(at, what);
        const s = this.#scratch;
        const length = s.getUint32(4, true);
        taken.push({
          index,
          which: s.getUint32(0, true),
          version: s.getUint32(8, true),
          stamp: s.getUint32(16, true) + s.getUint32(20, true) * 2 ** 32,
          bytes: this.#bytes.slice(at, at + length),
        });
      }
      let whole = located;
      for (let i = 0; whole && i < taken.length; i++) {
        const t = taken[i];
        const r = core.blackboardVerify(this.handle, t.index, t.which, t.stamp);
        if (r === mustWait) whole = false;
        else if (r < 0) throw statusError(r, what);
      }
      if (whole) {
        return taken.map((t) => new BlackboardValue(this.keys[t.index], t.version, t.bytes, generation));
      }
      // No committed buffer at one generation, time after time, is damage. At a generation that moved it
      // is a race: two batches committed between our load of it and the locate, which a reader that is
      // descheduled there can lose again and again (seen in CI with writers SIGKILLed and restarted).
      if (located) unlocated = 0;
      else unlocated = generation === unlocatedAt ? unlocated + 1 : 1;
      unlocatedAt = generation;
      if (unlocated >= k.BLACKBOARD_READ_ATTEMPTS) throw statusError(-k.CORRUPT, what);
      if (Number.isNaN(deadline)) deadline = timeoutMs < 0 ? Infinity : performance.now() + timeoutMs;
      else if (performance.now() >= deadline) {
        throw new WshmError(
          "Timeout",
          `${what}: a writer kept rewriting it faster than it could be copied for ${timeoutMs} ms`,
        );
      }
    }
  }

  /** The entries of a batch, checked before the claim is taken. */
  #entries(entries: BlackboardEntries, what: string): Array<[number, Message, number]> {
    if (entries === null || typeof entries !== "object") {
      throw argumentError(
        "type",
        `Invalid entries ${shown(entries)}: pass { key: value } or [key, value] pairs`,
      );
    }
    const pairs = Symbol.iterator in entries
      ? [...(entries as Iterable<readonly [string, Message]>)]
      : Object.entries(entries as Record<string, Message>);
    const checked: Array<[number, Message, number]> = [];
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw argumentError("type", `Invalid entry ${shown(pair)}: pass [key, value] pairs`);
      }
      const [key, value] = pair as [string, Message];
      const index = this.#keyIndex(key);
      const length = messageLength(value);
      if (length > this.maxValueSize) {
        throw new WshmError(
          "TooLarge",
          `${what}: a value of ${length} bytes for key "${key}" is over its ${this.maxValueSize}`,
        );
      }
      checked.push([index, value, length]);
    }
    return checked;
  }

  /** Stages and commits a batch under the claim just taken; aborts it if anything throws. */
  #commit(checked: Array<[number, Message, number]>, what: string): Record<string, number> {
    const core = this.segment.core;
    const versions: Record<string, number> = {};
    try {
      for (const [index, value, length] of checked) {
        const at = core.blackboardStage(this.handle, index, length);
        if (at < 0) throw statusError(at, what);
        writeMessage(this.#bytes, at, value);
        versions[this.keys[index]] = this.#scratch.getUint32(8, true);
      }
    } catch (error) {
      core.blackboardAbort(this.handle);
      throw error;
    }
    const r = core.blackboardCommit(this.handle);
    if (r < 0) throw statusError(r, what);
    return versions;
  }

  #claimed(status: number, timeoutMs: number, what: string): void {
    const k = this.segment.constants;
    if (status === -k.TIMED_OUT) {
      throw new WshmError("Timeout", `${what}: another writer held the write claim for ${timeoutMs} ms`);
    }
    if (status < 0) throw statusError(status, what);
  }

  /**
   * Writes several keys as one batch: readers see all of them or none.
   * Waits for the write claim (another writer's batch) at most `timeoutMs`.
   * Returns each key's new version.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/bb-many", { size: 1 << 20 });
   * const board = segment.blackboard("b", { keys: ["x", "y"] });
   * console.log(board.writeMany([["x", "1"], ["y", "2"]], { timeoutMs: 100 })); // { x: 1, y: 1 }
   * segment.unlink();
   * ```
   */
  writeMany(entries: BlackboardEntries, options?: BlackboardWaitOptions): Record<string, number> {
    checkCallOptions(options);
    const what = this.#what("write");
    const checked = this.#entries(entries, what);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const status = this.segment.core.blackboardClaim(this.handle, timeoutMs, this.#spins(options));
    this.#claimed(status, timeoutMs, what);
    return this.#commit(checked, what);
  }

  /** Writes one key (see {@linkcode Blackboard.writeMany}); returns its new version. */
  write(key: string, value: Message, options?: BlackboardWaitOptions): number {
    return this.writeMany([[key, value]], options)[key];
  }

  /** `writeMany` that waits for the write claim without blocking the event loop. */
  async writeManyAsync(
    entries: BlackboardEntries,
    options?: BlackboardWaitOptions,
  ): Promise<Record<string, number>> {
    checkCallOptions(options);
    const what = this.#what("write");
    const checked = this.#entries(entries, what);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const mode = options?.wait ?? this.#mode;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    const status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => core.blackboardClaimStep(this.handle, 0, 0, flags),
      () => core.blackboardClaimCancel(this.handle, 0),
      timeoutMs,
      mode,
    );
    this.#claimed(status, timeoutMs, what);
    return this.#commit(checked, what);
  }

  /** `write` that waits for the write claim without blocking the event loop. */
  async writeAsync(key: string, value: Message, options?: BlackboardWaitOptions): Promise<number> {
    return (await this.writeManyAsync([[key, value]], options))[key];
  }

  #waitKey(key: string | null): number {
    return key === null ? this.segment.constants.BLACKBOARD_ANY_KEY : this.#keyIndex(key);
  }

  #waitResult(status: number, key: string | null, timeoutMs: number): void {
    const k = this.segment.constants;
    const what = key === null ? this.#what("wait on") : this.#what("wait on", key);
    if (status === -k.TIMED_OUT) throw new WshmError("Timeout", `${what}: no change after ${timeoutMs} ms`);
    if (status < 0) throw statusError(status, what);
  }

  /**
   * Sleeps until `key`'s version differs from `version` (at once if it does
   * already), or with `key` null until any key is written after
   * `generation` was read (pass `board.generation`); throws `Timeout`.
   * Blocks this thread.
   *
   * @example
   * ```ts
   * import { Segment } from "./mod.ts";
   * using segment = Segment.create("/bb-wait", { size: 1 << 20 });
   * const board = segment.blackboard("b", { keys: ["k"] });
   * const seen = board.version("k");
   * board.write("k", "new");
   * board.wait("k", seen, { timeoutMs: 100 }); // returns at once: it moved past `seen`
   * segment.unlink();
   * ```
   */
  wait(key: string | null, version: number, options?: BlackboardWaitOptions): void {
    checkCallOptions(options);
    const index = this.#waitKey(key);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const seen = checkInteger(version, "version", 0, Number.MAX_SAFE_INTEGER) % 2 ** 32;
    const status = this.segment.core.blackboardWait(
      this.handle,
      index,
      seen,
      timeoutMs,
      this.#spins(options),
    );
    this.#waitResult(status, key, timeoutMs);
  }

  /** The same wait without blocking the event loop. */
  async waitAsync(key: string | null, version: number, options?: BlackboardWaitOptions): Promise<void> {
    checkCallOptions(options);
    const index = this.#waitKey(key);
    const timeoutMs = timeoutOption(options?.timeoutMs);
    const seen = checkInteger(version, "version", 0, Number.MAX_SAFE_INTEGER) % 2 ** 32;
    const mode = options?.wait ?? this.#mode;
    spinsFor(this.segment.constants, mode);
    const core = this.segment.core;
    const status = await awaitStep(
      this.segment,
      this.#words,
      (flags) => core.blackboardWaitStep(this.handle, index, seen, flags),
      () => core.blackboardWaitCancel(this.handle, index),
      timeoutMs,
      mode,
    );
    this.#waitResult(status, key, timeoutMs);
  }

  /**
   * @internal The wasm address of the futex word that changes on every
   * committed write of `key` (null: of any key), for a wait set.
   */
  changeWord(key: string | null): number {
    const address = this.segment.core.blackboardChangeWord(this.handle, this.#waitKey(key));
    if (address < 0) throw statusError(address, this.#what("watch"));
    return address;
  }
}
